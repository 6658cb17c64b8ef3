using FacadeOnnx.Text;
using FacadeOnnx.Training.Facade;

namespace FacadeOnnx.Training.Tests;

/// <summary>The Facade's target positions on real inputs (the metrics themselves are tested in the Runtime tests' MetricTests).</summary>
[TestFixture]
public class FacadeTargetTests
{
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
