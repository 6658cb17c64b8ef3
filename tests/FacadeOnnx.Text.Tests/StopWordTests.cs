using FacadeOnnx.Text;

namespace FacadeOnnx.Text.Tests;

public class StopWordTests
{
    static StopWords Load() => StopWords.Load(TestData.Root);

    [Test]
    public void ListHas179ExactCaseSensitiveWords()
    {
        StopWords words = Load();
        Assert.That(words.Count, Is.EqualTo(179));
        Assert.That(words.Contains("the"));
        Assert.That(words.Contains("don't"));
        Assert.That(words.Contains("The"), Is.False);
        Assert.That(words.Contains("s"));
        Assert.That(words.Contains("##s"), Is.False);
    }

    [Test]
    public void PositionsRespectSegments()
    {
        // SNLI dev pair 0: "Two women are embracing while holding to go packages ." / "The sisters are hugging goodbye ..."
        Example pair = Tasks.Get("snli").Load(TestData.Root, "dev").Examples[0];
        TokenizedInput input = TestData.Tokenizer.Encode(pair.Text, pair.Pair);
        StopWords words = Load();
        var first = words.Positions(input, Segment.First);
        var second = words.Positions(input, Segment.Second);
        var all = words.Positions(input, Segment.All);

        Assert.That(first, Is.Not.Empty);
        Assert.That(second, Is.Not.Empty);
        Assert.That(first, Has.All.InRange(1, input.FirstSepIndex - 1));
        Assert.That(second, Has.All.InRange(input.FirstSepIndex + 1, input.Length - 2));
        Assert.That(all, Is.EqualTo(first.Concat(second)));
        Assert.That(first.Select(i => input.Tokens[i]), Is.EqualTo(new[] { "are", "while", "to" }));
        Assert.That(second.Select(i => input.Tokens[i]), Has.Member("the").And.Member("are"));
    }

    [Test]
    public void SpecialTokensAndContinuationPiecesNeverMatch()
    {
        // A list that names the special tokens and "##s" itself still never selects them.
        StopWords words = StopWords.FromWords(["[CLS]", "[SEP]", "##s", "s", "and"]);
        string sentence = Tasks.Get("sst2").Load(TestData.Root, "train").Examples[8].Text; // "... gags ..." gives gag ##s
        TokenizedInput input = TestData.Tokenizer.Encode(sentence, sentence);
        Assert.That(input.Tokens, Has.Member("##s"));
        var positions = words.Positions(input, Segment.All);
        Assert.That(positions, Is.Not.Empty);
        Assert.That(positions.Select(i => input.Tokens[i]), Has.All.EqualTo("and"));
    }

    [Test]
    public void SecondSegmentOfASingleTextIsEmpty()
    {
        TokenizedInput input = TestData.Tokenizer.Encode("it is the best of the year");
        Assert.That(Load().Positions(input, Segment.Second), Is.Empty);
        Assert.That(Load().Positions(input, Segment.First).Select(i => input.Tokens[i]), Is.EqualTo(new[] { "it", "is", "the", "of", "the" }));
    }
}
