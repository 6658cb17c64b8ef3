using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Saliency;

/// <summary>What a simple-gradient score per token is.</summary>
public enum GradientReduction
{
    /// <summary>sum_d G_{t,d} e_{t,d}: gradient x input, the paper's default ("dot").</summary>
    GradientTimesInput,
    /// <summary>||G_t||_2: the plain gradient norm.</summary>
    GradientNorm,
}

public sealed record SimpleGradientOptions
{
    public GradientReduction Reduction { get; init; } = GradientReduction.GradientTimesInput;
}

/// <summary>Simple gradient (Simonyan et al. 2014; gradient x input as the paper runs it): one gradient per input.</summary>
public sealed class SimpleGradient(SimpleGradientOptions? options = null) : ISaliencyMethod
{
    readonly SimpleGradientOptions _options = options ?? new();

    public string Name => _options.Reduction == GradientReduction.GradientNorm ? "simple_norm" : "simple";

    public IReadOnlyList<SaliencyMap> Explain(GradientEngine engine, IReadOnlyList<TokenizedInput> inputs, IReadOnlyList<Prediction> predictions)
    {
        var maps = new SaliencyMap[inputs.Count];
        var order = Enumerable.Range(0, inputs.Count).OrderBy(i => inputs[i].Length).ToArray();
        var samples = order.Select(i => engine.Sample(inputs[i], predictions[i].Label)).ToArray();
        engine.Gradients(samples, (k, logits, gradient) =>
        {
            int i = order[k];
            float[] raw = _options.Reduction == GradientReduction.GradientNorm
                ? ScoreNormalization.GradientNorm(gradient, engine.Hidden)
                : ScoreNormalization.GradientTimesInput(gradient, samples[k].Embeddings, engine.Hidden);
            maps[i] = new SaliencyMap(Name, inputs[i], predictions[i].Label, predictions[i].Probability, raw,
                ScoreNormalization.AbsL1(raw), new Dictionary<string, double>());
        });
        return maps;
    }
}
