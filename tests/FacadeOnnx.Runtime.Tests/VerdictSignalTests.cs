using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Runtime.Faithfulness;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// The verdict's comprehensiveness share and method consensus (docs/method.md 16.2) on hand-made records whose values
/// are worked out by hand here.
/// </summary>
[TestFixture]
public class VerdictSignalTests
{
    static FaithfulnessScores TopToken(float comprehensivenessMask) =>
        new([1], [0], [0], [comprehensivenessMask], [0], new DeletionCurve(3, [], []));

    static SentenceRecord Record(int index, Dictionary<string, float[]> saliency, float simple, float smooth, float ig, float loo) => new()
    {
        Index = index,
        Saliency = saliency,
        Faithfulness = new() { ["simple"] = TopToken(simple), ["smooth"] = TopToken(smooth), ["ig"] = TopToken(ig), ["loo"] = TopToken(loo) },
    };

    static readonly float[] Uniform = [0, 1, 1, 1, 0];

    [Test]
    public void ComprehensivenessShareIsTheGradientsTopTokenEffectOverTheBestMethodsClampedAtZero()
    {
        var maps = new Dictionary<string, float[]> { ["simple"] = Uniform, ["smooth"] = Uniform, ["ig"] = Uniform, ["loo"] = Uniform };
        var records = new[]
        {
            Record(0, maps, simple: 0.05f, smooth: 0.10f, ig: 0.40f, loo: 0.30f),   // best: IG, 0.40
            Record(1, maps, simple: -0.10f, smooth: 0.20f, ig: 0.10f, loo: 0.25f),  // best: leave-one-out, 0.25; simple counts 0
        };
        // simple: (0.05 + 0) / (0.40 + 0.25); SmoothGrad: (0.10 + 0.20) / 0.65
        Assert.That(AuditJudgement.ComprehensivenessShare(records, "simple"), Is.EqualTo(0.05 / 0.65).Within(1e-6));
        Assert.That(AuditJudgement.ComprehensivenessShare(records, "smooth"), Is.EqualTo(0.30 / 0.65).Within(1e-6));
        Assert.That(AuditJudgement.ComprehensivenessShare(records, "loo"), Is.EqualTo(0.55 / 0.65).Within(1e-6));
        var unmeasured = records.Select(r => r with { Faithfulness = null }).ToArray();
        Assert.That(AuditJudgement.ComprehensivenessShare(unmeasured, "simple"), Is.Null, "no faithfulness scores, no signal");
        Assert.That(AuditJudgement.ComprehensivenessShare([records[0], unmeasured[1]], "simple"), Is.EqualTo(0.05 / 0.40).Within(1e-6),
            "sentences without scores are left out of both sums");
    }

    [Test]
    public void MethodConsensusCountsAgreeingPairsOverNonSpecialTokens()
    {
        var tokenizer = WordPieceTokenizer.MiniLm();
        var inputs = new[] { tokenizer.Encode("a fine film", maxLength: 16), tokenizer.Encode("dull", maxLength: 16) };
        Assume.That(inputs[0].Length, Is.EqualTo(5), "[CLS] a fine film [SEP]");
        var first = new Dictionary<string, float[]>
        {
            ["simple"] = [0.9f, 0.5f, 0.2f, 0.1f, 0.8f], // [CLS] and [SEP] are ignored: the top token is "a"
            ["smooth"] = [0, 0.6f, 0.2f, 0.2f, 0],
            ["ig"] = [0, 0.1f, 0.7f, 0.2f, 0],
            ["loo"] = [0, 0.4f, 0.3f, 0.3f, 0],
        };
        // Tops: a, a, fine, a. Pairs agreeing: simple-smooth, simple-loo, smooth-loo = 3 of 6. The one-word sentence
        // has fewer than 3 tokens and is left out.
        var records = new[] { new SentenceRecord { Index = 0, Saliency = first }, new SentenceRecord { Index = 1, Saliency = new() { ["simple"] = [0, 1, 0], ["ig"] = [0, 1, 0] } } };
        Assert.That(AuditJudgement.MethodConsensus(records, inputs), Is.EqualTo(0.5).Within(1e-12));
    }
}
