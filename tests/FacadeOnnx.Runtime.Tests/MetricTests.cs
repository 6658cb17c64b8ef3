using FacadeOnnx.Runtime.Metrics;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>Each metric of docs/method.md 12 against values computed by hand on small fixed inputs.</summary>
[TestFixture]
public class MetricTests
{
    static IReadOnlyList<float>[] Maps(params float[][] maps) => maps.Select(m => (IReadOnlyList<float>)m).ToArray();

    [Test]
    public void RankBreaksTiesByPosition()
    {
        float[] scores = [0.2f, 0.5f, 0.5f, 0.1f];
        Assert.That(SaliencyMetrics.Rank(scores, 1), Is.EqualTo(0));
        Assert.That(SaliencyMetrics.Rank(scores, 2), Is.EqualTo(1), "a tie goes to the earlier position");
        Assert.That(SaliencyMetrics.Rank(scores, 0), Is.EqualTo(2));
        Assert.That(SaliencyMetrics.Rank(scores, 3), Is.EqualTo(3));
    }

    [Test]
    public void FirstTokenMetricsByHand()
    {
        // Ranks of position 1: 0; 2; 0 (tied with position 2, which comes later).
        var m = SaliencyMetrics.FirstToken(Maps([0.1f, 0.6f, 0.3f], [0.5f, 0.2f, 0.3f], [0.2f, 0.4f, 0.4f]));
        Assert.That(m.Count, Is.EqualTo(3));
        Assert.That(m.HitRate1, Is.EqualTo(2.0 / 3).Within(1e-12));
        Assert.That(m.MeanReciprocalRank, Is.EqualTo((1 + 1.0 / 3 + 1) / 3).Within(1e-12));
        Assert.That(m.MeanAttribution, Is.EqualTo((0.6 + 0.2 + 0.4) / 3).Within(1e-7));
    }

    [Test]
    public void StopWordMetricsCountSentencesWithoutStopWordsAsZero()
    {
        var maps = Maps([0.1f, 0.2f, 0.7f], [0.4f, 0.3f, 0.3f], [0.3f, 0.2f, 0.3f, 0.2f]);
        IReadOnlyList<int>[] stops = [[2], [], [1, 2]];
        var m = SaliencyMetrics.Evaluate(maps, stops);
        // Sentence 0: q = 2, rank 0. Sentence 1: no stop words, 0 everywhere. Sentence 2: q = 2 (0.3 > 0.2), tied with
        // position 0, which comes first, so rank 1.
        Assert.That(m.Count, Is.EqualTo(3));
        Assert.That(m.WithTarget, Is.EqualTo(2));
        Assert.That(m.HitRate1, Is.EqualTo(1.0 / 3).Within(1e-12));
        Assert.That(m.MeanReciprocalRank, Is.EqualTo((1 + 0 + 0.5) / 3).Within(1e-12));
        Assert.That(m.MeanAttribution, Is.EqualTo((0.7 + 0 + 0.5) / 3).Within(1e-7));
    }

    [Test]
    public void StopWordTargetPicksTheFirstOfTiedStopWords()
    {
        var m = SaliencyMetrics.Evaluate(Maps([0.1f, 0.45f, 0.45f]), [[1, 2]]);
        Assert.That(m.HitRate1, Is.EqualTo(1.0));
        Assert.That(m.MeanReciprocalRank, Is.EqualTo(1.0));
        Assert.That(m.MeanAttribution, Is.EqualTo(0.9).Within(1e-7));
    }

    [Test]
    public void SpearmanByHand()
    {
        Assert.That(SaliencyMetrics.Spearman([1, 2, 3, 4], [10, 20, 30, 40]), Is.EqualTo(1).Within(1e-12));
        Assert.That(SaliencyMetrics.Spearman([1, 2, 3, 4], [4, 3, 2, 1]), Is.EqualTo(-1).Within(1e-12));
        // Ranks [1, 2, 3] and [1.5, 1.5, 3] (a tie shares the average rank): deviations [-1, 0, 1] and [-0.5, -0.5, 1],
        // covariance sum 1.5, variance sums 2 and 1.5, so rho = 1.5 / sqrt(3) = sqrt(3) / 2.
        Assert.That(SaliencyMetrics.Spearman([1, 2, 3], [5, 5, 9]), Is.EqualTo(Math.Sqrt(3) / 2).Within(1e-12));
        Assert.That(SaliencyMetrics.Spearman([1, 1, 1], [1, 2, 3]), Is.NaN);
    }

    [Test]
    public void ReductionMetricsByHand()
    {
        var stop = new HashSet<string> { "the", "a", "of" };
        IReadOnlyList<string>[] original = [["the", "movie", "is", "great"], ["a", "bore"], ["dull", "plot"]];
        IReadOnlyList<string>[] reduced = [["the", "great"], ["a", "a"], ["dull"]];
        var s = ReductionMetrics.Summarize(original, reduced, stop.Contains);
        Assert.That(s.Count, Is.EqualTo(3));
        Assert.That(s.MeanOriginalLength, Is.EqualTo(8.0 / 3).Within(1e-12));
        Assert.That(s.MeanReducedLength, Is.EqualTo(5.0 / 3).Within(1e-12));
        Assert.That(s.AtLeastOneStopToken, Is.EqualTo(2.0 / 3).Within(1e-12));
        Assert.That(s.AllStopTokens, Is.EqualTo(1.0 / 3).Within(1e-12), "the set {a} is all stop words");
        Assert.That(s.StopTokenShare, Is.EqualTo((0.5 + 1 + 0) / 3).Within(1e-12));
        Assert.That(s.ReducedLengthHistogram, Is.EqualTo(new Dictionary<int, int> { [1] = 1, [2] = 2 }));
    }

    [Test]
    public void IoUByHand()
    {
        Assert.That(ReductionMetrics.IoU(["the", "great", "movie"], ["great", "plot"]), Is.EqualTo(1.0 / 4).Within(1e-12));
        Assert.That(ReductionMetrics.IoU(["a", "a"], ["a"]), Is.EqualTo(1.0), "sets, not lists");
        Assert.That(ReductionMetrics.MeanIoU([["x"], ["y", "z"]], [["x"], ["z"]]), Is.EqualTo((1 + 0.5) / 2).Within(1e-12));
    }

    [Test]
    public void HotFlipMetricsByHand()
    {
        FlipOutcome[] outcomes =
        [
            new(true, 1, [false], [true]),
            new(true, 3, [true, false, true], [false, false, false]),
            new(false, 2, [true, true], [false, true]),
            new(true, 2, [false, false], [false, false]),
        ];
        var s = HotFlipMetrics.Summarize(outcomes);
        Assert.That(s.AttackEffectiveness, Is.EqualTo(0.75));
        Assert.That(s.AverageFlipsNeeded, Is.EqualTo(2.0).Within(1e-12), "mean over the successes (1, 3, 2)");
        Assert.That(s.Flip1Rate, Is.EqualTo(0.25));
        Assert.That(s.Flip2Rate, Is.EqualTo(0.5));
        Assert.That(s.Flip3Rate, Is.EqualTo(0.75));
        Assert.That(s.StopWordFlipShare, Is.EqualTo(4.0 / 8).Within(1e-12));
        Assert.That(s.FirstTokenFlipShare, Is.EqualTo(2.0 / 8).Within(1e-12));
        Assert.That(s.FlipHistogram, Is.EqualTo(new Dictionary<int, int> { [1] = 1, [2] = 1, [3] = 1 }));
    }

    [Test]
    public void EmptyInputsGiveNaNNotACrash()
    {
        Assert.That(SaliencyMetrics.FirstToken([]).HitRate1, Is.NaN);
        Assert.That(HotFlipMetrics.Summarize([]).AttackEffectiveness, Is.NaN);
        Assert.That(HotFlipMetrics.Summarize([new FlipOutcome(false, 0, [], [])]).AverageFlipsNeeded, Is.NaN);
    }
}
