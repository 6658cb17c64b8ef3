using FacadeOnnx.Runtime.Metrics;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Audit;

/// <summary>The paper's metrics of one model over every audited sentence (accuracy only when the input has labels).</summary>
public sealed record ModelMetrics(
    double? Accuracy,
    Dictionary<string, TargetMetrics> FirstToken,
    Dictionary<string, TargetMetrics> StopWords,
    ReductionSummary? Reduction,
    HotFlipSummary? HotFlip);

/// <summary>
/// Stage 3 of an audit: the paper's metrics (docs/method.md 12) from the sentence records of one model, and how two
/// audited models relate on the same sentences.
/// </summary>
public static class AuditSummary
{
    public static ModelMetrics Summarize(AuditPlan plan, SentenceRecord[] records)
    {
        var inputs = plan.Inputs;
        var methods = plan.Methods.Select(m => m.Name).ToArray();
        var stops = records.Select(r => plan.StopWords.Positions(inputs[r.Index], plan.Segment)).ToArray();
        IReadOnlyList<float>[] Maps(string method) => records.Select(r => (IReadOnlyList<float>)r.Saliency[method]).ToArray();
        var firstToken = methods.ToDictionary(m => m, m => SaliencyMetrics.FirstToken(Maps(m)));
        var stopMetrics = methods.ToDictionary(m => m, m => SaliencyMetrics.Evaluate(Maps(m), stops));
        ReductionSummary? reduction = null;
        HotFlipSummary? hotflip = null;
        if (plan.Options.Attacks)
        {
            var original = records.Select(r => (IReadOnlyList<string>)SegmentTokens(inputs[r.Index], Enumerable.Range(0, inputs[r.Index].Length), plan.Segment)).ToArray();
            reduction = ReductionMetrics.Summarize(original, records.Select(r => (IReadOnlyList<string>)ReducedTokens(plan, r)).ToArray(), plan.StopWords.Contains);
            hotflip = HotFlipMetrics.Summarize(records.Select(r => new FlipOutcome(r.FlipSuccess == true, r.FlipPositions!.Length,
                r.FlipPositions.Select(p => plan.StopWords.Contains(inputs[r.Index].Tokens[p])).ToArray(),
                r.FlipPositions.Select(p => p == TokenizedInput.FirstTokenPosition).ToArray())).ToArray());
        }
        double? accuracy = plan.Gold == null ? null : records.Average(r => r.Predicted == r.Gold ? 1.0 : 0.0);
        return new ModelMetrics(accuracy, firstToken, stopMetrics, reduction, hotflip);
    }

    /// <summary>Prediction agreement, accuracy difference (with labels) and (with attacks) the IoU of the two models' reductions.</summary>
    public static Comparison Compare(AuditPlan plan, SentenceRecord[] a, SentenceRecord[] b, ModelMetrics first, ModelMetrics second)
    {
        double? iou = plan.Options.Attacks
            ? ReductionMetrics.MeanIoU(a.Select(r => ReducedTokens(plan, r)).ToArray(), b.Select(r => ReducedTokens(plan, r)).ToArray())
            : null;
        return new Comparison(SaliencyMetrics.Agreement(a.Select(r => r.Predicted).ToArray(), b.Select(r => r.Predicted).ToArray()),
            first.Accuracy - second.Accuracy, iou);
    }

    static string[] ReducedTokens(AuditPlan plan, SentenceRecord record) =>
        SegmentTokens(plan.Inputs[record.Index], record.ReducedPositions!, plan.Segment);

    /// <summary>The tokens at <paramref name="positions"/> that lie in the audited segment (specials excluded).</summary>
    static string[] SegmentTokens(TokenizedInput input, IEnumerable<int> positions, Segment segment) =>
        positions.Where(p => input.InSegment(p, segment)).Select(p => input.Tokens[p]).ToArray();
}
