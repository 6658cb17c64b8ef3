namespace FacadeOnnx.Runtime.Metrics;

/// <summary>Input-reduction statistics of one model (docs/method.md 12.2); lengths in word pieces without [CLS]/[SEP].</summary>
public sealed record ReductionSummary(
    int Count,
    double MeanOriginalLength,
    double MeanReducedLength,
    double AtLeastOneStopToken,
    double AllStopTokens,
    double StopTokenShare,
    IReadOnlyDictionary<int, int> ReducedLengthHistogram);

public static class ReductionMetrics
{
    /// <param name="original">each input's tokens (specials excluded)</param>
    /// <param name="reduced">each reduced input's tokens (specials excluded)</param>
    public static ReductionSummary Summarize(IReadOnlyList<IReadOnlyList<string>> original, IReadOnlyList<IReadOnlyList<string>> reduced, Func<string, bool> isStopWord)
    {
        if (original.Count != reduced.Count) throw new ArgumentException("One reduced input per original input is needed.");
        if (reduced.Count == 0) return new ReductionSummary(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, new Dictionary<int, int>());
        return new ReductionSummary(
            reduced.Count,
            original.Average(o => (double)o.Count),
            reduced.Average(r => (double)r.Count),
            reduced.Average(r => r.Any(isStopWord) ? 1.0 : 0.0),
            // The token *set* is entirely stop words (an empty reduction does not count).
            reduced.Average(r => r.Count > 0 && r.Distinct().All(isStopWord) ? 1.0 : 0.0),
            reduced.Average(r => r.Count == 0 ? 0.0 : r.Count(isStopWord) / (double)r.Count),
            reduced.GroupBy(r => r.Count).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count()));
    }

    /// <summary>Token-set intersection over union of two reductions of the same input (1 when both are empty).</summary>
    public static double IoU(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        var sa = a.ToHashSet();
        var sb = b.ToHashSet();
        int union = sa.Union(sb).Count();
        return union == 0 ? 1.0 : sa.Intersect(sb).Count() / (double)union;
    }

    public static double MeanIoU(IReadOnlyList<IReadOnlyList<string>> a, IReadOnlyList<IReadOnlyList<string>> b)
    {
        if (a.Count != b.Count) throw new ArgumentException("IoU needs the reductions of the same inputs.");
        return a.Count == 0 ? double.NaN : a.Select((x, i) => IoU(x, b[i])).Average();
    }
}
