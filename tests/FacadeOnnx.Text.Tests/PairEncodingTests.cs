using FacadeOnnx.Text;

namespace FacadeOnnx.Text.Tests;

public class PairEncodingTests
{
    static Example FirstSnliDevPair() => Tasks.Get("snli").Load(TestData.Root, "dev").Examples[0];

    [Test]
    public void PairLayoutIsClsPremiseSepHypothesisSepWithTypeIds()
    {
        Example pair = FirstSnliDevPair();
        var t = TestData.Tokenizer;
        TokenizedInput a = t.Encode(pair.Text), b = t.Encode(pair.Pair!);
        TokenizedInput input = t.Encode(pair.Text, pair.Pair);
        int na = a.Length - 2, nb = b.Length - 2;

        Assert.That(input.Length, Is.EqualTo(na + nb + 3));
        Assert.That(input.FirstSepIndex, Is.EqualTo(na + 1));
        Assert.That(input.Ids[0], Is.EqualTo(t.ClsId));
        Assert.That(input.Ids[input.FirstSepIndex], Is.EqualTo(t.SepId));
        Assert.That(input.Ids[^1], Is.EqualTo(t.SepId));
        Assert.That(input.Ids[1..(na + 1)], Is.EqualTo(a.Ids[1..^1]));
        Assert.That(input.Ids[(na + 2)..^1], Is.EqualTo(b.Ids[1..^1]));
        Assert.That(input.TypeIds[..(na + 2)], Has.All.EqualTo(0), "[CLS], premise and the first [SEP]");
        Assert.That(input.TypeIds[(na + 2)..], Has.All.EqualTo(1), "hypothesis and the last [SEP]");
        Assert.That(input.Spans[(na + 2)..^1].Select(s => s.Segment), Has.All.EqualTo(1));
        Assert.That(new[] { input.Spans[0], input.Spans[input.FirstSepIndex], input.Spans[^1] }, Has.All.EqualTo(TokenSpan.Special));
        Assert.That(input.Truncated, Is.False);
        Assert.That(input.IsPair);
    }

    [Test]
    public void SingleTextHasTypeIdsZeroAndSepLast()
    {
        TokenizedInput input = TestData.Tokenizer.Encode(FirstSnliDevPair().Text);
        Assert.That(input.FirstSepIndex, Is.EqualTo(input.Length - 1));
        Assert.That(input.TypeIds, Has.All.EqualTo(0));
        Assert.That(input.IsPair, Is.False);
    }

    [Test]
    public void LongestFirstTruncationCutsTheLongerSegmentAndRespectsMaxLength()
    {
        SquadQuestion q = Squad.Load(TestData.Root, "dev-a")[0];
        var t = TestData.Tokenizer;
        int questionTokens = t.Encode(q.Question).Length - 2;
        TokenizedInput full = t.Encode(q.Question, q.Context, 100_000);
        TokenizedInput cut = t.Encode(q.Question, q.Context, 64);

        Assert.That(full.Truncated, Is.False);
        Assert.That(cut.Truncated, Is.True);
        Assert.That(cut.Length, Is.EqualTo(64));
        Assert.That(cut.FirstSepIndex, Is.EqualTo(questionTokens + 1), "the short question is kept whole");
        Assert.That(cut.Ids[..^1], Is.EqualTo(full.Ids[..63]), "the context loses tokens from its end");
        Assert.That(cut.Ids[^1], Is.EqualTo(t.SepId));
        Assert.That((full.DroppedPieces, cut.DroppedPieces), Is.EqualTo((0, full.Length - 64)), "the cut counts every word piece dropped");
    }

    [Test]
    public void EqualSegmentsAreCutAlternatelyFromThePairFirst()
    {
        string sentence = Tasks.Get("sst2").Load(TestData.Root, "dev").Examples[1].Text;
        var t = TestData.Tokenizer;
        int n = t.Encode(sentence).Length - 2;
        for (int maxLength = 3; maxLength < 2 * n + 3; maxLength += 3)
        {
            TokenizedInput cut = t.Encode(sentence, sentence, maxLength);
            int a = cut.FirstSepIndex - 1, b = cut.Length - cut.FirstSepIndex - 2;
            Assert.That(cut.Length, Is.EqualTo(maxLength));
            Assert.That(cut.Truncated);
            Assert.That(a - b, Is.EqualTo((maxLength - 3) % 2), $"maxLength {maxLength}: first {a}, second {b}");
            Assert.That(cut.DroppedPieces, Is.EqualTo(2 * n + 3 - maxLength), $"maxLength {maxLength}: pieces dropped from both segments");
        }
    }

    [Test]
    public void SingleTextTruncationKeepsTheStartAndEndsWithSep()
    {
        string sentence = Tasks.Get("sst2").Load(TestData.Root, "train").Examples[2].Text;
        var t = TestData.Tokenizer;
        TokenizedInput full = t.Encode(sentence);
        TokenizedInput cut = t.Encode(sentence, maxLength: 10);
        Assert.That(cut.Length, Is.EqualTo(10));
        Assert.That(cut.Truncated);
        Assert.That(cut.Ids[..9], Is.EqualTo(full.Ids[..9]));
        Assert.That(cut.Ids[9], Is.EqualTo(t.SepId));
        Assert.That(cut.DroppedPieces, Is.EqualTo(full.Length - 10));
        Assert.That(t.Encode(sentence, maxLength: full.Length).Truncated, Is.False, "exactly full length is not truncated");
    }

    [Test]
    public void MaxLengthBelowTheSpecialTokensIsAFacadeException()
    {
        var e = Assert.Throws<FacadeException>(() => TestData.Tokenizer.Encode("a", "b", maxLength: 2));
        Assert.That(e!.Message, Does.Contain("2"));
        Assert.That(TestData.Tokenizer.Encode("", "", maxLength: 3).Ids, Is.EqualTo(new[] { 101, 102, 102 }));
    }
}
