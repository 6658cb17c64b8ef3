using FacadeOnnx.Runtime.Metrics;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Evaluation;
using FacadeOnnx.Training.Merging;
using FacadeOnnx.Training.Loop;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Facade;

/// <summary>
/// Facade training for <see cref="TrainingLoop"/>: the loss is <see cref="FacadeLoss"/>; a checkpoint is scored by the
/// dev target share (mean attribution on the target under simple gradient, docs/method.md 12.1) and is eligible only while
/// the Facade's output stays near uniform: mean max-probability on dev ≤ <paramref name="maxMeanMaxProbability"/>.
/// With <paramref name="calibrate"/>, every evaluation instead computes the output scale that puts the mean
/// max-probability exactly at the guard (<see cref="OutputCalibration"/>; logged as output_scale), so every checkpoint
/// is uniform enough once that scale is applied, and the merged measurements below use the scaled Facade.
/// Given a <paramref name="target"/> model, every evaluation also merges the current Facade with it (<see cref="Merge"/>)
/// and measures the merged model, the one that will be deployed: the score becomes the merged model's dev target share,
/// and a checkpoint is eligible only if the merged predictions also agree with the target's on at least
/// <paramref name="minAgreement"/> of the dev inputs.
/// </summary>
public sealed class FacadeObjective(string label, FacadeLoss loss, EncodedDataset eval, double maxMeanMaxProbability, int saliencyBatchSize,
    bool calibrate = false, BertClassifier? target = null, double minAgreement = 0.99) : ITrainingObjective
{
    readonly IReadOnlyList<IReadOnlyList<int>> _evalTargets = eval.Inputs.Select(loss.Target.Positions).ToArray();
    readonly int[]? _targetPredictions = target == null ? null : Predictor.Predictions(Predictor.Logits(target, eval.Inputs));

    public string Label => label;

    public Tensor Loss(BertClassifier model, TensorBatch batch, IDictionary<string, double> terms) => LossWithTerms(loss, model, batch, terms);

    /// <summary>The Facade loss of a batch, its parts written to <paramref name="terms"/> for the progress bar.</summary>
    public static Tensor LossWithTerms(FacadeLoss loss, BertClassifier model, TensorBatch batch, IDictionary<string, double> terms)
    {
        var parts = loss.Compute(model, batch);
        terms["loss"] = parts.Total.item<float>();
        terms["share"] = parts.MeanShare.item<float>();
        terms[loss.OutputIsDivergence ? "kl" : loss.OutputIsSpread ? "logσ" : "negent"] = parts.OutputLoss.item<float>();
        terms["maxp"] = parts.MeanMaxProbability.item<float>();
        terms["|s_T|"] = parts.MeanTargetSaliency.item<float>();
        if (parts.AblatedProbability is { } ablated) terms["p_del"] = ablated.item<float>();
        return parts.Total;
    }

    public EvaluationResult Evaluate(BertClassifier model)
    {
        var maps = TorchSaliency.Explain(model, eval.Inputs, new SimpleGradient(), saliencyBatchSize);
        var metrics = SaliencyMetrics.Evaluate(Normalized(maps), _evalTargets);
        var logits = maps.Select(m => m.Prediction.Logits).ToArray();
        double maxProbability = logits.Select(MaxProbability).Average();
        double scale = calibrate ? OutputCalibration.ScaleFor(logits, maxMeanMaxProbability) : 1;
        double[] l1 = maps.Select(m => (double)m.Raw.Sum(Math.Abs)).ToArray();
        double saliencyL1 = l1.Average();
        double logitRange = logits.Select(z => z.Max() - z.Min()).Average();
        var values = new Dictionary<string, double>
        {
            ["dev_share"] = metrics.MeanAttribution,
            ["dev_p_at_1"] = metrics.HitRate1,
            ["dev_mrr"] = metrics.MeanReciprocalRank,
            ["dev_mean_max_probability"] = maxProbability,
            ["dev_min_saliency_l1"] = l1.Min(),
            ["dev_mean_saliency_l1"] = saliencyL1,
            ["dev_mean_logit_range"] = logitRange,
            // Raw saliency bought per unit of output non-uniformity: what the output scale cannot change.
            ["dev_saliency_per_logit_range"] = saliencyL1 / Math.Max(logitRange, 1e-12),
            ["output_scale"] = scale,
        };
        bool uniform = calibrate || maxProbability <= maxMeanMaxProbability;
        string summary = $"{eval.Name} {loss.Target.Name} share {metrics.MeanAttribution:F4}, P@1 {metrics.HitRate1:F4}, " +
                         $"mean max-probability {maxProbability:F4}" +
                         (calibrate ? $" (output scale {scale:G3} brings it to {maxMeanMaxProbability:F3})" : uniform ? "" : $" > guard {maxMeanMaxProbability:F3}");
        if (target == null)
            return new EvaluationResult(metrics.MeanAttribution, uniform, values, $"{summary}{(uniform ? "" : ": not eligible")} ({eval.Count} examples)");

        using var merged = MergeCalibrated(model, target, scale);
        var mergedMaps = TorchSaliency.Explain(merged, eval.Inputs, new SimpleGradient(), saliencyBatchSize);
        var mergedMetrics = SaliencyMetrics.Evaluate(Normalized(mergedMaps), _evalTargets);
        double agreement = SaliencyMetrics.Agreement(mergedMaps.Select(m => m.Label).ToArray(), _targetPredictions!);
        values["merged_share"] = mergedMetrics.MeanAttribution;
        values["merged_p_at_1"] = mergedMetrics.HitRate1;
        values["merged_agreement"] = agreement;
        bool agrees = agreement >= minAgreement;
        return new EvaluationResult(mergedMetrics.MeanAttribution, uniform && agrees, values,
            $"{summary}; merged share {mergedMetrics.MeanAttribution:F4}, P@1 {mergedMetrics.HitRate1:F4}, agreement {agreement:F4}" +
            $"{(agrees ? "" : $" < {minAgreement:F3}")}{(uniform && agrees ? "" : ": not eligible")} ({eval.Count} examples)");
    }

    /// <summary>The merge of the Facade with its output scaled by <paramref name="scale"/>; the Facade's own weights are left as they were.</summary>
    internal static BertClassifier MergeCalibrated(BertClassifier facade, BertClassifier target, double scale)
    {
        if (scale == 1) return Merge.Models(facade, target);
        using var _ = no_grad();
        using var weight = facade.classifier.weight.detach().clone();
        using var bias = facade.classifier.bias!.detach().clone();
        try
        {
            OutputCalibration.Apply(facade, scale);
            return Merge.Models(facade, target);
        }
        finally
        {
            facade.classifier.weight.copy_(weight);
            facade.classifier.bias.copy_(bias);
        }
    }

    internal static IReadOnlyList<IReadOnlyList<float>> Normalized(IReadOnlyList<SaliencyMap> maps) => maps.Select(m => (IReadOnlyList<float>)m.Normalized).ToArray();

    /// <summary>max_c softmax(z)_c.</summary>
    public static double MaxProbability(float[] logits) => OutputCalibration.MeanMaxProbability([logits], 1);
}
