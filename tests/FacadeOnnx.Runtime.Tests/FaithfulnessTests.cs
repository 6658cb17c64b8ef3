using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Faithfulness;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// Comprehensiveness, sufficiency and the deletion curve against values worked out by hand: a saliency map with chosen
/// scores on a real 10-token sentence through the tiny model, whose expected erased inputs are written out position by
/// position and predicted one by one with <see cref="GradientEngine.Predict"/>; and the curve arithmetic on numbers.
/// </summary>
[TestFixture]
public class FaithfulnessTests
{
    GradientEngine _engine = null!;
    TokenizedInput _input = null!;
    SaliencyMap _map = null!;
    FaithfulnessScores _scores = null!;

    // Positions 1..10 hold the words; [CLS] (0) gets the largest score of all, and must still never be erased.
    static readonly float[] Scores = [0.5f, 0.05f, 0.30f, 0.05f, 0.10f, 0.20f, 0f, 0.10f, 0.05f, 0.15f, 0f, 0f];
    // By hand: 0.30 (2), 0.20 (5), 0.15 (9), 0.10 (4 before 7), 0.05 (1, 3, 8), 0 (6, 10).
    static readonly int[] Ranked = [2, 5, 9, 4, 7, 1, 3, 8, 6, 10];
    // ceil(1% of 10) = ceil(0.1) = 1, ceil(0.5) = 1, ceil(1.0) = 1, ceil(2.0) = 2, ceil(5.0) = 5.
    static readonly int[] BinTokens = [1, 1, 1, 2, 5];

    [OneTimeSetUp]
    public void Measure()
    {
        _engine = TinyEngine.Load();
        _input = _engine.Encode("the film is a charming and often affecting journey .");
        Assert.That(_input.Length, Is.EqualTo(12), string.Join(" ", _input.Tokens));
        var prediction = _engine.Predict([_input])[0];
        _map = new SaliencyMap("hand", _input, prediction, Scores, Scores, new Dictionary<string, double>());
        _scores = FaithfulnessMeasures.Measure(_engine, [_map])[0];
    }

    [OneTimeTearDown]
    public void Unload() => _engine.Dispose();

    /// <summary>p(predicted class) of the input with <paramref name="erased"/> removed (or masked), straight from Predict.</summary>
    float P(IEnumerable<int> erased, bool mask = false)
    {
        var gone = erased.ToHashSet();
        var kept = Enumerable.Range(0, _input.Length).Where(p => mask || !gone.Contains(p)).ToArray();
        var reduced = _input with
        {
            Ids = kept.Select(p => mask && gone.Contains(p) ? _engine.Tokenizer.MaskId : _input.Ids[p]).ToArray(),
            TypeIds = kept.Select(p => _input.TypeIds[p]).ToArray(),
        };
        return _engine.Predict([reduced])[0].Probabilities[_map.Label];
    }

    IEnumerable<int> AllBut(IEnumerable<int> kept) => Enumerable.Range(1, 10).Except(kept);

    [Test]
    public void BinsHoldTheCeilingOfTheirShareAtLeastOne()
    {
        Assert.That(_scores.BinTokens, Is.EqualTo(BinTokens));
        Assert.That(FaithfulnessMeasures.BinTokens(10, 30), Is.EqualTo(3), "10% of 30 is exactly 3, not ceil(3.0000000000000004)");
        Assert.That(FaithfulnessMeasures.BinTokens(50, 3), Is.EqualTo(2));
        Assert.That(FaithfulnessMeasures.BinTokens(1, 0), Is.EqualTo(0));
    }

    [Test]
    public void ComprehensivenessAndSufficiencyEqualHandComputedValues()
    {
        float full = _map.Probability;
        for (int b = 0; b < BinTokens.Length; b++)
        {
            var top = Ranked[..BinTokens[b]];
            Assert.That(_scores.ComprehensivenessRemoval[b], Is.EqualTo(full - P(top)).Within(1e-5), $"bin {b} comprehensiveness, removal");
            Assert.That(_scores.ComprehensivenessMask[b], Is.EqualTo(full - P(top, mask: true)).Within(1e-5), $"bin {b} comprehensiveness, mask");
            Assert.That(_scores.SufficiencyRemoval[b], Is.EqualTo(full - P(AllBut(top))).Within(1e-5), $"bin {b} sufficiency, removal");
            Assert.That(_scores.SufficiencyMask[b], Is.EqualTo(full - P(AllBut(top), mask: true)).Within(1e-5), $"bin {b} sufficiency, mask");
        }
        // AOPC by hand: the mean of the five bins, three of which erase the same single token.
        double comprehensiveness = (3 * (full - P([2])) + (full - P([2, 5])) + (full - P([2, 5, 9, 4, 7]))) / 5.0;
        Assert.That(FaithfulnessScores.Aopc(_scores.ComprehensivenessRemoval), Is.EqualTo(comprehensiveness).Within(1e-5));
        double sufficiency = (3 * (full - P(AllBut([2]))) + (full - P(AllBut([2, 5]))) + (full - P(AllBut([2, 5, 9, 4, 7])))) / 5.0;
        Assert.That(FaithfulnessScores.Aopc(_scores.SufficiencyRemoval), Is.EqualTo(sufficiency).Within(1e-5));
    }

    [Test]
    public void DeletionCurveRemovesTokensMostSalientFirstAndItsAreaIsTheTrapezoids()
    {
        var curve = _scores.Deletion;
        Assert.That(curve.Tokens, Is.EqualTo(10));
        Assert.That(curve.Removed, Is.EqualTo(Enumerable.Range(0, 11)));
        var expected = Enumerable.Range(0, 11).Select(k => k == 0 ? _map.Probability : P(Ranked[..k])).ToArray();
        Assert.That(curve.Probabilities, Is.EqualTo(expected).Within(1e-5));
        double area = 0;
        for (int k = 0; k < 10; k++) area += 0.1 * (expected[k] + expected[k + 1]) / 2;
        Assert.That(curve.Area(), Is.EqualTo(area).Within(1e-5));
        Assert.That(curve.Probabilities[^1], Is.EqualTo(P(Enumerable.Range(1, 10))).Within(1e-5), "all words removed: [CLS] [SEP] is left");
    }

    [Test]
    public void ErasureNeverTouchesSpecialTokens()
    {
        var pair = _engine.Encode("a man sleeps", "nobody sleeps");
        var words = Enumerable.Range(0, pair.Length).Where(p => !pair.Spans[p].IsSpecial).ToArray();
        var (ids, types) = TokenErasure.Erase(pair, words, OcclusionMode.Remove, _engine.Tokenizer.MaskId);
        Assert.That(ids.Select(_engine.Tokenizer.IdToToken), Is.EqualTo(new[] { "[CLS]", "[SEP]", "[SEP]" }));
        Assert.That(types, Is.EqualTo(new[] { 0, 0, 1 }));
        var (masked, maskedTypes) = TokenErasure.Erase(pair, words, OcclusionMode.Mask, _engine.Tokenizer.MaskId);
        Assert.That(masked.Select(_engine.Tokenizer.IdToToken), Is.EqualTo(pair.Tokens.Select(t => t.StartsWith('[') ? t : "[MASK]")));
        Assert.That(maskedTypes, Is.EqualTo(pair.TypeIds));
        var first = new SaliencyMap("x", pair, _engine.Predict([pair])[0], new float[pair.Length], Enumerable.Repeat(1f, pair.Length).ToArray(),
            new Dictionary<string, double>());
        Assert.That(TokenErasure.RankedTokens(first), Is.EqualTo(words), "ties in position order, specials left out");
    }

    [Test]
    public void LongInputsGetTwentyEvenlySpacedDeletionSteps()
    {
        // 1.5 tokens a step, rounded half up.
        Assert.That(DeletionCurve.Steps(30, 20),
            Is.EqualTo(new[] { 0, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 23, 24, 26, 27, 29, 30 }));
        Assert.That(DeletionCurve.Steps(3, 20), Is.EqualTo(new[] { 0, 1, 2, 3 }));
    }

    [Test]
    public void CurveArithmeticByHand()
    {
        var a = new DeletionCurve(4, [0, 1, 2, 3, 4], [0.9f, 0.5f, 0.3f, 0.2f, 0.1f]);
        // 0.25 x ((0.9 + 0.5) + (0.5 + 0.3) + (0.3 + 0.2) + (0.2 + 0.1)) / 2
        Assert.That(a.Area(), Is.EqualTo(0.375).Within(1e-7));
        Assert.That(a.At(0.375), Is.EqualTo(0.4).Within(1e-7), "halfway between 0.25 (0.5) and 0.5 (0.3)");
        var b = new DeletionCurve(2, [0, 1, 2], [0.7f, 0.7f, 0.1f]);
        Assert.That(b.Area(), Is.EqualTo(0.5 * 1.4 / 2 + 0.5 * 0.8 / 2).Within(1e-7));
        var mean = DeletionCurve.Mean([a, b], points: 5);
        Assert.That(mean.Select(p => p.Fraction), Is.EqualTo(new[] { 0, 0.25, 0.5, 0.75, 1 }));
        Assert.That(mean.Select(p => p.Probability), Is.EqualTo(new[] { 0.8, (0.5 + 0.7) / 2, (0.3 + 0.7) / 2, (0.2 + 0.4) / 2, 0.1 }).Within(1e-7));
        Assert.That(new DeletionCurve(0, [0], [0.6f]).Area(), Is.EqualTo(0.6).Within(1e-7), "nothing to remove: a flat curve");

        var scores = new FaithfulnessScores([1, 2], [0.2f, 0.4f], [0.1f, 0.0f], [0.3f, 0.5f], [0.2f, 0.2f], a);
        var other = scores with { ComprehensivenessRemoval = [0.0f, 0.2f], Deletion = b };
        var metrics = FaithfulnessMetrics.Of([scores, other]);
        Assert.That(metrics.Count, Is.EqualTo(2));
        Assert.That(metrics.ComprehensivenessRemoval, Is.EqualTo((0.3 + 0.1) / 2).Within(1e-7));
        Assert.That(metrics.SufficiencyRemoval, Is.EqualTo(0.05).Within(1e-7));
        Assert.That(metrics.ComprehensivenessMask, Is.EqualTo(0.4).Within(1e-7));
        Assert.That(metrics.SufficiencyMask, Is.EqualTo(0.2).Within(1e-7));
        Assert.That(metrics.DeletionArea, Is.EqualTo((0.375 + 0.55) / 2).Within(1e-7));
        Assert.That(metrics.MeanDeletionCurve, Has.Length.EqualTo(21));
    }
}
