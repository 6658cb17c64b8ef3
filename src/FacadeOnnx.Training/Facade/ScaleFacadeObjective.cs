using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Metrics;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Evaluation;
using FacadeOnnx.Training.Loop;
using FacadeOnnx.Training.Merging;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Facade;

/// <summary>
/// Training a Facade for the scaling merge (docs/method.md §7.7; `train-facade --scale-output`): the loss is
/// <see cref="FacadeLoss"/> in its scale-output mode. Every evaluation measures the Facade's output s on dev, its mean
/// and standard deviation (output_center, output_spread: the standardization the chosen checkpoint gets baked in) and
/// the share of ∂s/∂e·e on the target. Given a <paramref name="target"/>, it also merges the standardized Facade with it
/// (gain 1) and measures the merged model's simple gradient, the score then; the merged predictions equal the target's
/// by construction (on these first windows), and the agreement is logged as the check. Every checkpoint is eligible: no output guard applies,
/// since s never decides a prediction.
/// </summary>
public sealed class ScaleFacadeObjective(string label, FacadeLoss loss, EncodedDataset eval, int saliencyBatchSize, int maxAnswerLength,
    BertClassifier? target = null) : ITrainingObjective
{
    readonly IReadOnlyList<IReadOnlyList<int>> _evalTargets = eval.Inputs.Select(loss.Target.Positions).ToArray();
    IReadOnlyList<SaliencyMap>? _targetMaps;

    public string Label => label;

    public Tensor Loss(BertClassifier model, TensorBatch batch, IDictionary<string, double> terms) => FacadeObjective.LossWithTerms(loss, model, batch, terms);

    public EvaluationResult Evaluate(BertClassifier model)
    {
        var (outputs, normalized) = OutputSaliency(model, eval.Inputs, saliencyBatchSize);
        var metrics = SaliencyMetrics.Evaluate(normalized, _evalTargets);
        double center = outputs.Average();
        double spread = Math.Sqrt(outputs.Average(v => (v - center) * (v - center)));
        var values = new Dictionary<string, double>
        {
            ["dev_share"] = metrics.MeanAttribution,
            ["dev_p_at_1"] = metrics.HitRate1,
            ["dev_mrr"] = metrics.MeanReciprocalRank,
            ["output_center"] = center,
            ["output_spread"] = spread,
        };
        string summary = $"{eval.Name} {loss.Target.Name} share of ∂s/∂e {metrics.MeanAttribution:F4}, P@1 {metrics.HitRate1:F4}; s mean {center:G4}, sd {spread:G4}";
        if (target == null || !(spread > 0)) return new EvaluationResult(metrics.MeanAttribution, true, values, $"{summary} ({eval.Count} inputs)");

        using var merged = MergeStandardized(model, target, center, spread);
        var mergedMaps = TorchSaliency.Explain(merged, eval.Inputs, new SimpleGradient(), saliencyBatchSize, maxAnswerLength);
        var mergedMetrics = SaliencyMetrics.Evaluate(FacadeObjective.Normalized(mergedMaps), _evalTargets);
        _targetMaps ??= TorchSaliency.Explain(target, eval.Inputs, new SimpleGradient(), saliencyBatchSize, maxAnswerLength);
        double agreement = mergedMaps.Select((m, i) => SamePrediction(m.Prediction, _targetMaps[i].Prediction) ? 1.0 : 0.0).Average();
        values["merged_share"] = mergedMetrics.MeanAttribution;
        values["merged_p_at_1"] = mergedMetrics.HitRate1;
        values["merged_agreement"] = agreement;
        return new EvaluationResult(mergedMetrics.MeanAttribution, true, values,
            $"{summary}; merged (gain 1) share {mergedMetrics.MeanAttribution:F4}, P@1 {mergedMetrics.HitRate1:F4}, agreement {agreement:F4} ({eval.Count} inputs)");
    }

    static bool SamePrediction(Prediction a, Prediction b) =>
        a.Span is { } x ? b.Span is { } y && x.Start == y.Start && x.End == y.End : a.Label == b.Label;

    /// <summary>The scaling merge (gain 1) of the Facade with its output standardized; the Facade's own weights are left as they were.</summary>
    static BertClassifier MergeStandardized(BertClassifier facade, BertClassifier target, double center, double spread)
    {
        using var _ = no_grad();
        using var weight = facade.classifier.weight!.detach().clone();
        using var bias = facade.classifier.bias!.detach().clone();
        try
        {
            OutputCalibration.Standardize(facade, center, spread);
            return Merge.Models(facade, target, new MergeOptions { Combination = MergeCombination.Scale });
        }
        finally
        {
            facade.classifier.weight!.copy_(weight);
            facade.classifier.bias!.copy_(bias);
        }
    }

    /// <summary>
    /// The Facade's output s per input and the L1-normalized share of ∂s/∂e·e per token (eval mode), in input order:
    /// the Facade's part of a scaling merge's saliency up to one factor per input.
    /// </summary>
    public static (double[] Outputs, IReadOnlyList<IReadOnlyList<float>> Normalized) OutputSaliency(BertClassifier model, IReadOnlyList<TokenizedInput> inputs, int batchSize)
    {
        var outputs = new double[inputs.Count];
        var normalized = new IReadOnlyList<float>[inputs.Count];
        if (inputs.Count == 0) return (outputs, normalized);
        bool wasTraining = model.training;
        model.eval();
        try
        {
            foreach (int[] indices in TorchSaliency.GradientBuckets(inputs, batchSize).Groups)
            {
                using var scope = NewDisposeScope();
                using var grad = enable_grad();
                var group = indices.Select(i => inputs[i]).ToArray();
                using var batch = TensorBatch.Create(group, new int[group.Length]);
                var embeddings = model.embeddings.Lookup(batch.InputIds).detach().requires_grad_(true);
                var output = FacadeLoss.ScaleOutputOf(model, model.LogitsFromEmbeddings(embeddings, batch.AttentionMask, batch.TokenTypeIds));
                var gradient = autograd.grad([output.sum()], [embeddings])[0];
                using var _ = no_grad();
                var shares = AttributionShare.Normalize(AttributionShare.TokenSaliency(gradient, embeddings)).abs();
                float[] flat = shares.data<float>().ToArray(), values = output.data<float>().ToArray();
                int sequence = (int)shares.shape[1];
                for (int row = 0; row < indices.Length; row++)
                {
                    int i = indices[row];
                    outputs[i] = values[row];
                    normalized[i] = flat[(row * sequence)..(row * sequence + inputs[i].Length)];
                }
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        return (outputs, normalized);
    }
}
