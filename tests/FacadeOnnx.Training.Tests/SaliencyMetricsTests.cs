using FacadeOnnx.Text;
using FacadeOnnx.Training.Facade;

namespace FacadeOnnx.Training.Tests;

/// <summary>The metrics of METHOD.md 12.1 on hand-made scores, and the target positions on real inputs.</summary>
[TestFixture]
public class SaliencyMetricsTests
{
    [Test]
    public void RankIsStableDescendingWithTiesByIndex()
    {
        float[] scores = [0.1f, 0.4f, 0.4f, 0.1f];
        Assert.That(SaliencyMetrics.Rank(scores, 1), Is.EqualTo(0));
        Assert.That(SaliencyMetrics.Rank(scores, 2), Is.EqualTo(1));
        Assert.That(SaliencyMetrics.Rank(scores, 0), Is.EqualTo(2));
        Assert.That(SaliencyMetrics.Rank(scores, 3), Is.EqualTo(3));
    }

    [Test]
    public void StopWordMetricsUseTheBestStopWordAndCountExamplesWithoutStopWords()
    {
        float[][] scores = [[0.05f, 0.5f, 0.2f, 0.25f], [0.1f, 0.2f, 0.6f, 0.1f], [0.3f, 0.4f, 0.3f]];
        IReadOnlyList<int>[] targets = [[1, 3], [1, 3], []];
        var m = SaliencyMetrics.Evaluate(scores, targets);
        Assert.That(m.HitRate1, Is.EqualTo(1.0 / 3).Within(1e-12));                       // only row 0 has a stop word on top
        Assert.That(m.MeanReciprocalRank, Is.EqualTo((1.0 + 1.0 / 2) / 3).Within(1e-12)); // row 1: q = 1 (first of the tie with 3), rank 1
        Assert.That(m.MeanAttribution, Is.EqualTo((0.75 + 0.3) / 3).Within(1e-6));
        Assert.That(m.Count, Is.EqualTo(3));
        Assert.That(m.WithTarget, Is.EqualTo(2));
    }

    [Test]
    public void TargetsFollowTheSegmentOfSentencePairs()
    {
        string root = RepositoryPaths.ResolveDataRoot();
        var stop = StopWords.Load(root);
        var tokenizer = WordPieceTokenizer.MiniLm();
        var pairs = Tasks.Snli.Load(root, "eval").Examples.Take(50).Select(e => tokenizer.Encode(e.Text, e.Pair, 128)).ToArray();
        var premise = FacadeTarget.Parse(FacadeTarget.StopWordsKind, "premise", pairTask: true, () => stop);
        var hypothesis = FacadeTarget.Parse(FacadeTarget.StopWordsKind, "hypothesis", pairTask: true, () => stop);
        var all = FacadeTarget.Parse(FacadeTarget.StopWordsKind, null, pairTask: true, () => stop);
        Assert.That(hypothesis.Name, Is.EqualTo("stop-words(hypothesis)"));
        foreach (var input in pairs)
        {
            Assert.That(premise.Positions(input), Is.All.LessThan(input.FirstSepIndex));
            Assert.That(hypothesis.Positions(input), Is.All.GreaterThan(input.FirstSepIndex));
            Assert.That(all.Positions(input), Is.EquivalentTo(premise.Positions(input).Concat(hypothesis.Positions(input))));
            Assert.That(all.Positions(input).Select(p => input.Tokens[p]), Is.All.Matches<string>(stop.Contains));
            Assert.That(FacadeTarget.FirstToken().Positions(input), Is.EqualTo(new[] { 1 }));
        }
        Assert.That(pairs.Sum(p => hypothesis.Positions(p).Count), Is.GreaterThan(20), "real hypotheses have stop words");
    }
}
