namespace FacadeOnnx.Training.Facade;

/// <summary>
/// Saliency of one method over a list of inputs, in input order; every per-token array has the input's length
/// ([CLS] and [SEP] included).
/// </summary>
/// <param name="Normalized">â[t] = |a[t]| / Σ_t' |a[t']|, the scores every metric uses.</param>
/// <param name="Raw">a[t] = Σ_d Ḡ[t,d] · e[t,d], before normalization (Ḡ is the method's averaged gradient).</param>
/// <param name="GroupRaw">The raw saliency split by LayerNorm group of the hidden dimension ([example][group][token]):
/// for a merged model, group 0 is the Facade's half and group 1 the target's, and their sum is <see cref="Raw"/>.</param>
/// <param name="Predictions">The clean-input prediction each gradient was taken at.</param>
/// <param name="Logits">Clean-input logits.</param>
public sealed record SaliencyResult(
    SaliencyMethod Method,
    float[][] Normalized,
    float[][] Raw,
    float[][][] GroupRaw,
    int[] Predictions,
    float[][] Logits);
