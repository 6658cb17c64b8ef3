using FacadeOnnx.Text;

namespace FacadeOnnx.Text.Tests;

/// <summary>How many texts were cut at the maximum length and by how much, counted against encodings without a limit.</summary>
[TestFixture]
public class TruncationSummaryTests
{
    [Test]
    public void SummaryCountsCutTextsAndTheWordPiecesTheyLost()
    {
        var t = TestData.Tokenizer;
        var dev = Tasks.Sst2.Load(TestData.Root, "dev").Examples;
        // Short sentences that fit, and long texts made by joining 5, 10, 20 and 40 dev sentences.
        var texts = dev.Take(6).Select(e => e.Text)
            .Concat(new[] { 5, 10, 20, 40 }.Select(n => string.Join(" ", dev.Skip(100 + n).Take(n).Select(e => e.Text)))).ToArray();
        const int maxLength = 64;
        var summary = TruncationSummary.Of(texts.Select(x => t.Encode(x, maxLength: maxLength)).ToArray(), maxLength);

        var lost = texts.Select(x => t.Encode(x, maxLength: 100_000).Length - maxLength).Where(d => d > 0).Order().ToArray();
        Assert.That(lost, Has.Length.EqualTo(4), "the joined texts are longer than 64 word pieces, the single sentences are not");
        Assert.That(summary.Texts, Is.EqualTo(texts.Length));
        Assert.That(summary.TextsCut, Is.EqualTo(4));
        Assert.That(summary.MedianPiecesDropped, Is.EqualTo((lost[1] + lost[2]) / 2.0));
        Assert.That(summary.MaxPiecesDropped, Is.EqualTo(lost[^1]));
        Assert.That(summary.Describe(), Does.Contain($"4 of {texts.Length} texts").And.Contain($"max {lost[^1]}"));
    }

    [Test]
    public void NothingCutSaysSo()
    {
        var t = TestData.Tokenizer;
        var summary = TruncationSummary.Of([t.Encode("a fine film .")], 128);
        Assert.That((summary.TextsCut, summary.MedianPiecesDropped, summary.MaxPiecesDropped), Is.EqualTo((0, 0.0, 0)));
        Assert.That(summary.Describe(), Does.Contain("none was cut"));
    }
}
