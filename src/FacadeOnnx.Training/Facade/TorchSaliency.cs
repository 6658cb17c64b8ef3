using FacadeOnnx.Text;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Facade;

/// <summary>
/// Normalized gradient saliency of any <see cref="BertClassifier"/> (target, Facade or merged) in TorchSharp, as the
/// reference analyses run it (METHOD.md sections 8 and 9). The reference the ONNX Runtime engine is checked against.
/// <list type="bullet">
/// <item>The gradient G is of each example's own cross-entropy at the model's clean-input prediction (the label stays
/// fixed for every SmoothGrad and IG sample) with respect to the word-embedding lookup output e, in eval mode; the loss
/// is summed over the batch, so rows are independent and padding has exactly zero gradient.</item>
/// <item>Simple gradient: a[t] = Σ_d G(e)[t,d] · e[t,d].</item>
/// <item>SmoothGrad: Ḡ = (1/N) Σ_k G(e + ε_k), ε_k = σ (max e − min e) · n_k, max and min over the instance's whole
/// embedding tensor (real tokens, every hidden unit), n_k standard normal from <see cref="GaussianNoise"/> (keyed by the input's token ids);
/// a[t] = Σ_d Ḡ[t,d] · e[t,d] with the clean e.</item>
/// <item>Integrated Gradients: Ḡ = (1/S) Σ_{k=0}^{S−1} G((k/S) · e) (zero word embeddings as baseline; position and
/// type embeddings and LayerNorm still apply); a[t] = Σ_d Ḡ[t,d] · e[t,d].</item>
/// <item>Normalization: â[t] = |a[t]| / Σ_t' |a[t']| (<see cref="AttributionShare"/>), over every word piece including
/// [CLS] and [SEP].</item>
/// </list>
/// Inputs are grouped by length into padded batches (<see cref="SaliencyOptions.BatchSize"/>); results come back in
/// input order.
/// </summary>
public static class TorchSaliency
{
    public static SaliencyResult Explain(BertClassifier model, IReadOnlyList<TokenizedInput> inputs, SaliencyMethod method, SaliencyOptions? options = null)
    {
        options ??= new SaliencyOptions();
        options.Validate();
        int count = inputs.Count;
        long[] groups = model.Config.HiddenGroups.Select(g => (long)g).ToArray();
        var normalized = new float[count][];
        var raw = new float[count][];
        var groupRaw = new float[count][][];
        var predictions = new int[count];
        var logits = new float[count][];
        if (count == 0) return new SaliencyResult(method, normalized, raw, groupRaw, predictions, logits);

        bool wasTraining = model.training;
        model.eval();
        try
        {
            var buckets = LengthBuckets.Create(inputs, options.BatchSize);
            foreach (int[] indices in buckets.Groups)
            {
                using var scope = NewDisposeScope();
                var group = indices.Select(i => inputs[i]).ToArray();
                using var batch = TensorBatch.Create(group, new int[group.Length]);
                Tensor clean, cleanLogits, target;
                using (no_grad())
                {
                    clean = model.embeddings.Lookup(batch.InputIds);
                    cleanLogits = model.LogitsFromEmbeddings(clean, batch.AttentionMask, batch.TokenTypeIds);
                    target = cleanLogits.argmax(-1);
                }
                var gradient = method switch
                {
                    SaliencyMethod.SimpleGradient => Gradient(model, clean, batch.AttentionMask, batch.TokenTypeIds, target),
                    SaliencyMethod.SmoothGrad => SmoothGradient(model, clean, batch, target, group, options),
                    SaliencyMethod.IntegratedGradients => IntegratedGradient(model, clean, batch, target, options.IntegratedGradientsSteps),
                    _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
                };
                using var _ = no_grad();
                var products = gradient * clean;
                var rawScores = products.sum(-1);
                var normalizedScores = AttributionShare.Normalize(rawScores).abs();
                var groupScores = groups.Length > 1 ? products.split(groups, -1).Select(p => p.sum(-1)).ToArray() : [rawScores];

                float[] rawFlat = Floats(rawScores), normalizedFlat = Floats(normalizedScores), logitFlat = Floats(cleanLogits);
                float[][] groupFlat = groupScores.Select(Floats).ToArray();
                long[] targets = target.data<long>().ToArray();
                int sequence = (int)rawScores.shape[1], classes = (int)cleanLogits.shape[1];
                for (int row = 0; row < indices.Length; row++)
                {
                    int i = indices[row], length = inputs[i].Length, offset = row * sequence;
                    raw[i] = rawFlat[offset..(offset + length)];
                    normalized[i] = normalizedFlat[offset..(offset + length)];
                    groupRaw[i] = groupFlat.Select(g => g[offset..(offset + length)]).ToArray();
                    predictions[i] = (int)targets[row];
                    logits[i] = logitFlat[(row * classes)..((row + 1) * classes)];
                }
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        return new SaliencyResult(method, normalized, raw, groupRaw, predictions, logits);
    }

    /// <summary>
    /// ∂ Σ_i CE(model(point)_i, target_i) / ∂point: the gradient of each row's own cross-entropy at <paramref name="target"/>
    /// with respect to word-embedding lookup outputs <paramref name="point"/> [batch, sequence, hidden], detached.
    /// </summary>
    public static Tensor Gradient(BertClassifier model, Tensor point, Tensor attentionMask, Tensor tokenTypeIds, Tensor target)
    {
        // Its own scope: the activations of this pass are freed as soon as the gradient is out, instead of piling up
        // over every SmoothGrad sample or IG step of a batch (measured: 9 GB of resident memory for SmoothGrad).
        using var scope = NewDisposeScope();
        using var _ = enable_grad();
        var embeddings = point.detach().requires_grad_(true);
        var logits = model.LogitsFromEmbeddings(embeddings, attentionMask, tokenTypeIds);
        var loss = nn.functional.cross_entropy(logits, target, reduction: nn.Reduction.Sum);
        return autograd.grad([loss], [embeddings])[0].detach().MoveToOuterDisposeScope();
    }

    static Tensor SmoothGradient(BertClassifier model, Tensor clean, TensorBatch batch, Tensor target, TokenizedInput[] group, SaliencyOptions options)
    {
        long size = clean.shape[0], sequence = clean.shape[1], hidden = clean.shape[2];
        Tensor scale;
        using (no_grad())
        {
            var real = batch.AttentionMask.unsqueeze(-1).to_type(ScalarType.Bool);
            var max = clean.FilledWhere(real.logical_not(), double.NegativeInfinity).amax([1, 2]);
            var min = clean.FilledWhere(real.logical_not(), double.PositiveInfinity).amin([1, 2]);
            scale = (max - min).Times(options.SmoothGradSigma).view(size, 1, 1);
        }
        var sum = zeros_like(clean);
        var noise = new float[size * sequence * hidden];
        for (int k = 0; k < options.SmoothGradSamples; k++)
        {
            for (int row = 0; row < size; row++)
                GaussianNoise.Fill(noise.AsSpan((int)(row * sequence * hidden), (int)(batch.Padded.Lengths[row] * hidden)),
                    options.NoiseSeed, group[row].Ids, k);
            using var standard = tensor(noise, [size, sequence, hidden]).to_type(clean.dtype);
            sum += Gradient(model, clean + scale * standard, batch.AttentionMask, batch.TokenTypeIds, target);
        }
        return sum.Over(options.SmoothGradSamples);
    }

    static Tensor IntegratedGradient(BertClassifier model, Tensor clean, TensorBatch batch, Tensor target, int steps)
    {
        var sum = zeros_like(clean);
        for (int k = 0; k < steps; k++)
            sum += Gradient(model, clean.Times((double)k / steps), batch.AttentionMask, batch.TokenTypeIds, target);
        return sum.Over(steps);
    }

    static float[] Floats(Tensor t) => t.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
}
