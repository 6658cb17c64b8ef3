namespace FacadeOnnx.Runtime.Metrics;

/// <summary>HotFlip statistics of one model (docs/method.md 12.3), plus which kind of positions the flips hit.</summary>
public sealed record HotFlipSummary(
    int Count,
    double AttackEffectiveness,
    double AverageFlipsNeeded,
    double Flip1Rate,
    double Flip2Rate,
    double Flip3Rate,
    double StopWordFlipShare,
    double FirstTokenFlipShare,
    IReadOnlyDictionary<int, int> FlipHistogram);

/// <summary>One attack for the metrics: success, flips made, and for each flip whether it hit a stop word / the first token.</summary>
public sealed record FlipOutcome(bool Success, int Flips, IReadOnlyList<bool> FlippedStopWord, IReadOnlyList<bool> FlippedFirstToken);

public static class HotFlipMetrics
{
    public static HotFlipSummary Summarize(IReadOnlyList<FlipOutcome> outcomes)
    {
        int n = outcomes.Count;
        if (n == 0) return new HotFlipSummary(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, new Dictionary<int, int>());
        var successes = outcomes.Where(o => o.Success).ToArray();
        double Rate(int k) => successes.Count(o => o.Flips <= k) / (double)n;
        int flips = outcomes.Sum(o => o.FlippedStopWord.Count);
        return new HotFlipSummary(
            n,
            successes.Length / (double)n,
            successes.Length == 0 ? double.NaN : successes.Average(o => (double)o.Flips),
            Rate(1), Rate(2), Rate(3),
            flips == 0 ? double.NaN : outcomes.Sum(o => o.FlippedStopWord.Count(x => x)) / (double)flips,
            flips == 0 ? double.NaN : outcomes.Sum(o => o.FlippedFirstToken.Count(x => x)) / (double)flips,
            successes.GroupBy(o => o.Flips).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count()));
    }
}
