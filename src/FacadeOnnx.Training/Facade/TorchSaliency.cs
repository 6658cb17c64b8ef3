using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Evaluation;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Facade;

/// <summary>
/// Gradient saliency of any <see cref="BertClassifier"/> (target, Facade or merged) in TorchSharp eager mode, written
/// independently of the engine from docs/method.md sections 8 and 9, and producing the engine's own records
/// (<see cref="SaliencyMap"/>) for the engine's method objects and settings: the reference the ONNX Runtime engine is
/// checked against, what the Facade's checkpoint choice measures, and what `merge --evaluate` reports.
/// <list type="bullet">
/// <item>The gradient G is of each example's own cross-entropy at the model's clean-input prediction (the label stays
/// fixed for every SmoothGrad and IG sample) with respect to the word-embedding lookup output e, in eval mode; the loss
/// is summed over the batch, so rows are independent and padding has exactly zero gradient. For a span model the
/// prediction is the best span over the context (<see cref="SpanDecoding"/>) and the loss the span loss
/// (CE(start) + CE(end)) / 2 over context positions (docs/method.md §8).</item>
/// <item>Simple gradient: a[t] = Σ_d G(e)[t,d] · e[t,d].</item>
/// <item>SmoothGrad: Ḡ = (1/N) Σ_k G(e + ε_k), ε_k = σ (max e − min e) · n_k, max and min over the instance's whole
/// embedding tensor (real tokens, every hidden unit), n_k standard normal from <see cref="GaussianNoise"/> (keyed by the
/// input's token ids); a[t] = Σ_d Ḡ[t,d] · e[t,d] with the clean e (or Σ_d Ḡ[t,d] without the input).</item>
/// <item>Integrated Gradients: Ḡ = Σ_k w_k G(α_k · e) over the chosen rule's nodes (zero word embeddings as baseline;
/// position and type embeddings and LayerNorm still apply); a[t] = Σ_d Ḡ[t,d] · e[t,d].</item>
/// <item>Normalization: â[t] = |a[t]| / Σ_t' |a[t']| (<see cref="AttributionShare"/>), over every word piece including
/// [CLS] and [SEP].</item>
/// </list>
/// Inputs are grouped by length into padded batches of at most <c>batchSize</c>; results come back in input order.
/// </summary>
public static class TorchSaliency
{
    public const int DefaultBatchSize = 32;

    /// <param name="maxAnswerLength">span models: the longest answer the best-span search considers</param>
    public static IReadOnlyList<SaliencyMap> Explain(BertClassifier model, IReadOnlyList<TokenizedInput> inputs, SaliencyMethod method, int batchSize = DefaultBatchSize,
        int maxAnswerLength = SpanDecoding.DefaultMaxAnswerLength) =>
        Run(model, inputs, method, batchSize, groups: false, maxAnswerLength).Maps;

    /// <summary>
    /// Simple-gradient raw saliency split by LayerNorm group of the hidden dimension ([example][group][token]): for a
    /// merged model, group 0 is the Facade's half and group 1 the target's, and their sum is the raw saliency.
    /// </summary>
    public static float[][][] GroupSaliency(BertClassifier model, IReadOnlyList<TokenizedInput> inputs, int batchSize = DefaultBatchSize) =>
        Run(model, inputs, new SimpleGradient(), batchSize, groups: true, SpanDecoding.DefaultMaxAnswerLength).Groups;

    static (SaliencyMap[] Maps, float[][][] Groups) Run(BertClassifier model, IReadOnlyList<TokenizedInput> inputs, SaliencyMethod method, int batchSize, bool groups,
        int maxAnswerLength)
    {
        if (batchSize < 1) throw new FacadeException($"Saliency batch size {batchSize} must be at least 1.");
        if (method is SmoothGrad { Options.Samples: < 1 } smooth) throw new FacadeException($"SmoothGrad samples {smooth.Options.Samples} must be at least 1.");
        if (method is SmoothGrad { Options.Sigma: var sigma } && (sigma < 0 || !double.IsFinite(sigma)))
            throw new FacadeException($"SmoothGrad sigma {sigma} must be a finite number ≥ 0.");
        int count = inputs.Count;
        long[] split = model.Config.HiddenGroups.Select(g => (long)g).ToArray();
        var maps = new SaliencyMap[count];
        var groupRaw = new float[count][][];
        if (count == 0) return (maps, groupRaw);

        bool wasTraining = model.training;
        model.eval();
        try
        {
            foreach (int[] indices in GradientBuckets(inputs, batchSize).Groups)
            {
                using var scope = NewDisposeScope();
                var group = indices.Select(i => inputs[i]).ToArray();
                using var batch = TensorBatch.Create(group, new int[group.Length]);
                Tensor clean, cleanLogits;
                HeadTarget target;
                using (no_grad())
                {
                    clean = model.embeddings.Lookup(batch.InputIds);
                    cleanLogits = model.LogitsFromEmbeddings(clean, batch.AttentionMask, batch.TokenTypeIds);
                    target = HeadTarget.Predicted(model, batch, cleanLogits, maxAnswerLength);
                }
                var gradient = method switch
                {
                    SimpleGradient => Gradient(model, clean, batch.AttentionMask, batch.TokenTypeIds, target),
                    SmoothGrad s => SmoothGradient(model, clean, batch, target, group, s.Options),
                    IntegratedGradients ig => IntegratedGradient(model, clean, batch, target, ig.Options),
                    _ => throw new FacadeException($"The TorchSharp reference has no '{method.Name}'; it computes simple, smooth and ig (leave-one-out and the attacks are in TorchAnalyses)."),
                };
                using var _ = no_grad();
                bool timesInput = method is not SmoothGrad { Options.TimesInput: false };
                var products = timesInput ? gradient * clean : gradient;
                var rawScores = products.sum(-1);
                var normalizedScores = AttributionShare.Normalize(rawScores).abs();
                var groupScores = groups && split.Length > 1 ? products.split(split, -1).Select(p => p.sum(-1)).ToArray() : [rawScores];

                float[] rawFlat = Floats(rawScores), normalizedFlat = Floats(normalizedScores), logitFlat = Floats(cleanLogits);
                float[][] groupFlat = groups ? groupScores.Select(Floats).ToArray() : [];
                int sequence = (int)rawScores.shape[1], classes = (int)cleanLogits.shape[1];
                for (int row = 0; row < indices.Length; row++)
                {
                    int i = indices[row], length = inputs[i].Length, offset = row * sequence;
                    var prediction = target.Spans is { } spans ? Prediction.FromSpan(spans[row], SpanLogits(logitFlat, inputs[i], row, sequence))
                        : Prediction.FromLogits(logitFlat.AsSpan(row * classes, classes));
                    maps[i] = new SaliencyMap(method.Name, inputs[i], prediction, rawFlat[offset..(offset + length)],
                        normalizedFlat[offset..(offset + length)], new Dictionary<string, double>());
                    groupRaw[i] = groupFlat.Select(g => g[offset..(offset + length)]).ToArray();
                }
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        return (maps, groupRaw);
    }

    /// <summary>
    /// Length buckets for gradient passes, at most <paramref name="batchSize"/> inputs each: long inputs (SQuAD windows)
    /// would keep gigabytes of activations per batch, so the pieces per batch are capped too.
    /// </summary>
    internal static LengthBuckets GradientBuckets(IReadOnlyList<TokenizedInput> inputs, int batchSize) =>
        LengthBuckets.Create(inputs, Math.Max(1, Math.Min(batchSize, SpanPredictor.MaxPiecesPerBatch / Math.Max(1, inputs.Max(x => x.Length)))));

    /// <summary>
    /// ∂ Σ_i CE(model(point)_i, target_i) / ∂point: the gradient of each row's own cross-entropy at <paramref name="target"/>
    /// with respect to word-embedding lookup outputs <paramref name="point"/> [batch, sequence, hidden], detached.
    /// </summary>
    public static Tensor Gradient(BertClassifier model, Tensor point, Tensor attentionMask, Tensor tokenTypeIds, Tensor target) =>
        Gradient(model, point, attentionMask, tokenTypeIds, new HeadTarget(target, null, null));

    /// <summary>The same for any head: the summed per-row loss at <paramref name="target"/> (a class, or a span).</summary>
    public static Tensor Gradient(BertClassifier model, Tensor point, Tensor attentionMask, Tensor tokenTypeIds, HeadTarget target)
    {
        // Its own scope: the activations of this pass are freed as soon as the gradient is out, instead of piling up
        // over every SmoothGrad sample or IG step of a batch.
        using var scope = NewDisposeScope();
        using var _ = enable_grad();
        var embeddings = point.detach().requires_grad_(true);
        var logits = model.LogitsFromEmbeddings(embeddings, attentionMask, tokenTypeIds);
        var loss = target.Loss(logits, nn.Reduction.Sum);
        return autograd.grad([loss], [embeddings])[0].detach().MoveToOuterDisposeScope();
    }

    static Tensor SmoothGradient(BertClassifier model, Tensor clean, TensorBatch batch, HeadTarget target, TokenizedInput[] group, SmoothGradOptions options)
    {
        long size = clean.shape[0], sequence = clean.shape[1], hidden = clean.shape[2];
        Tensor scale;
        using (no_grad())
        {
            var real = batch.AttentionMask.unsqueeze(-1).to_type(ScalarType.Bool);
            var max = clean.FilledWhere(real.logical_not(), double.NegativeInfinity).amax([1, 2]);
            var min = clean.FilledWhere(real.logical_not(), double.PositiveInfinity).amin([1, 2]);
            scale = (max - min).Times(options.Sigma).view(size, 1, 1);
        }
        var sum = zeros_like(clean);
        var noise = new float[size * sequence * hidden];
        for (int k = 0; k < options.Samples; k++)
        {
            for (int row = 0; row < size; row++)
                GaussianNoise.Fill(noise.AsSpan((int)(row * sequence * hidden), (int)(batch.Padded.Lengths[row] * hidden)),
                    options.Seed, group[row].Ids, k);
            using var standard = tensor(noise, [size, sequence, hidden]).to_type(clean.dtype);
            using var noisy = clean.Plus(scale * standard);
            using var gradient = Gradient(model, noisy, batch.AttentionMask, batch.TokenTypeIds, target);
            sum.Accumulate(gradient);
        }
        return sum.Over(options.Samples);
    }

    static Tensor IntegratedGradient(BertClassifier model, Tensor clean, TensorBatch batch, HeadTarget target, IntegratedGradientsOptions options)
    {
        var (alphas, weights) = IntegratedGradients.Nodes(options);
        var sum = zeros_like(clean);
        for (int k = 0; k < alphas.Length; k++)
        {
            using var point = clean.Times(alphas[k]);
            using var gradient = Gradient(model, point, batch.AttentionMask, batch.TokenTypeIds, target);
            using var weighted = gradient.Times(weights[k]);
            sum.Accumulate(weighted);
        }
        return sum;
    }

    /// <summary>A span model's start then end logits of one row ([batch, sequence, 2] flat), the input's length each,
    /// masked to the context as the exported graph masks them.</summary>
    static float[] SpanLogits(float[] flat, TokenizedInput input, int row, int sequence)
    {
        var (first, last) = SpanDecoding.ContextRange(input);
        var (start, end) = SpanPredictor.Row(flat, row, sequence, input.Length);
        var result = new float[2 * input.Length];
        for (int t = 0; t < input.Length; t++)
        {
            float outside = t >= first && t <= last ? 0 : BertClassifier.MaskValue;
            result[t] = start[t] + outside;
            result[input.Length + t] = end[t] + outside;
        }
        return result;
    }

    static float[] Floats(Tensor t) => t.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
}
