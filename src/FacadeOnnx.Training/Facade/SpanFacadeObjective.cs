using FacadeOnnx.Runtime.Metrics;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Evaluation;
using FacadeOnnx.Training.Loop;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Facade;

/// <summary>
/// Facade training on SQuAD windows (docs/method.md §5.2, §15): the loss is <see cref="FacadeLoss"/> with a span head
/// (the span loss at the Facade's own best span, flatness over context positions). A checkpoint is scored by the dev
/// target share under simple gradient. Given a <paramref name="target"/>, every evaluation calibrates the Facade's
/// output scale to the largest factor at which the merged model's best spans still equal the target's on at least
/// <paramref name="minAgreement"/> of the dev windows (<see cref="OutputCalibration.SpanScaleFor"/>; logged as
/// output_scale), merges the scaled Facade with the target and measures the merged model: the score is its share, and a
/// checkpoint is eligible when such a factor exists. Without a target there is no guard: the Facade's flatness is
/// logged (mean max start/end probability) but what keeps spans is the merge.
/// </summary>
public sealed class SpanFacadeObjective(string label, FacadeLoss loss, EncodedDataset eval, int saliencyBatchSize, int maxAnswerLength,
    BertClassifier? target = null, double minAgreement = 0.98) : ITrainingObjective
{
    readonly IReadOnlyList<IReadOnlyList<int>> _evalTargets = eval.Inputs.Select(loss.Target.Positions).ToArray();
    readonly (int First, int Last)[] _contexts = eval.Inputs.Select(SpanDecoding.ContextRange).ToArray();
    readonly (float[] Start, float[] End)[]? _targetLogits = target == null ? null : SpanPredictor.Logits(target, eval.Inputs);
    SpanPrediction[]? _targetSpans;

    public string Label => label;

    public Tensor Loss(BertClassifier model, TensorBatch batch, IDictionary<string, double> terms) => FacadeObjective.LossWithTerms(loss, model, batch, terms);

    public EvaluationResult Evaluate(BertClassifier model)
    {
        var maps = TorchSaliency.Explain(model, eval.Inputs, new SimpleGradient(), saliencyBatchSize, maxAnswerLength);
        var metrics = SaliencyMetrics.Evaluate(FacadeObjective.Normalized(maps), _evalTargets);
        double maxProbability = SpanPredictor.MeanMaxProbability(model, eval.Inputs);
        var values = new Dictionary<string, double>
        {
            ["dev_share"] = metrics.MeanAttribution,
            ["dev_p_at_1"] = metrics.HitRate1,
            ["dev_mrr"] = metrics.MeanReciprocalRank,
            ["dev_mean_max_probability"] = maxProbability,
            ["dev_mean_saliency_l1"] = maps.Select(m => (double)m.Raw.Sum(Math.Abs)).Average(),
            ["output_scale"] = 1,
        };
        string summary = $"{eval.Name} {loss.Target.Name} share {metrics.MeanAttribution:F4}, P@1 {metrics.HitRate1:F4}, " +
                         $"mean max start/end probability {maxProbability:F4}";
        if (target == null) return new EvaluationResult(metrics.MeanAttribution, true, values, $"{summary} ({eval.Count} windows)");

        double? found = OutputCalibration.SpanScaleFor(_targetLogits!, SpanPredictor.Logits(model, eval.Inputs), _contexts, maxAnswerLength, minAgreement);
        double scale = found ?? OutputCalibration.MinScale;
        using var merged = FacadeObjective.MergeCalibrated(model, target, scale);
        var mergedMaps = TorchSaliency.Explain(merged, eval.Inputs, new SimpleGradient(), saliencyBatchSize, maxAnswerLength);
        var mergedMetrics = SaliencyMetrics.Evaluate(FacadeObjective.Normalized(mergedMaps), _evalTargets);
        var targetSpans = _targetSpans ??= _targetLogits!.Select((t, i) => SpanDecoding.BestSpan(t.Start, t.End, _contexts[i].First, _contexts[i].Last, maxAnswerLength)).ToArray();
        double agreement = mergedMaps.Select((m, i) =>
            m.Prediction.Span is { } span && span.Start == targetSpans[i].Start && span.End == targetSpans[i].End ? 1.0 : 0.0).Average();
        values["output_scale"] = scale;
        values["merged_share"] = mergedMetrics.MeanAttribution;
        values["merged_p_at_1"] = mergedMetrics.HitRate1;
        values["merged_agreement"] = agreement;
        bool eligible = found != null;
        return new EvaluationResult(mergedMetrics.MeanAttribution, eligible, values,
            $"{summary}; output scale {scale:G3}: merged share {mergedMetrics.MeanAttribution:F4}, P@1 {mergedMetrics.HitRate1:F4}, span agreement {agreement:F4}" +
            $"{(eligible ? "" : $" (no scale keeps {minAgreement:P0}): not eligible")} ({eval.Count} windows)");
    }
}
