using FacadeOnnx.Text;

namespace FacadeOnnx.Text.Tests;

public class TokenizerTests
{
    static Dictionary<string, int> VocabIndex() =>
        TestData.VocabLines.Select((token, id) => (token, id)).ToDictionary(p => p.token, p => p.id);

    static IEnumerable<string> RealSentences()
    {
        var sst = Tasks.Get("sst2").Load(TestData.Root, "dev").Examples.Select(e => e.Text);
        var snli = TestData.EveryNth(Tasks.Get("snli").Load(TestData.Root, "dev").Examples, 10).SelectMany(e => new[] { e.Text, e.Pair! });
        return sst.Concat(snli);
    }

    [Test]
    public void IdsOfRealSentencesAreTheVocabularyLinesOfTheirTokens()
    {
        string[] lines = TestData.VocabLines;
        int pieces = 0, checkedTokens = 0;
        foreach (string sentence in RealSentences())
        {
            TokenizedInput input = TestData.Tokenizer.Encode(sentence);
            for (int i = 0; i < input.Length; i++)
            {
                Assert.That(lines[input.Ids[i]], Is.EqualTo(input.Tokens[i]), $"token {i} of '{sentence}'");
                if (input.Tokens[i].StartsWith("##")) pieces++;
                checkedTokens++;
            }
        }
        Assert.That(checkedTokens, Is.GreaterThan(30_000));
        Assert.That(pieces, Is.GreaterThan(100), "real sentences contain words split into ## pieces");
    }

    [Test]
    public void RealAsciiSentencesMatchAPlainGreedyWordPiece()
    {
        // Lower-cased so that SNLI's capitals do not need the reference to case-fold.
        var vocab = VocabIndex();
        int compared = 0;
        foreach (string sentence in RealSentences().Select(s => s.ToLowerInvariant()).Where(s => s.All(char.IsAscii)))
        {
            var expected = ReferenceWordPiece.Tokenize(sentence, vocab);
            TokenizedInput input = TestData.Tokenizer.Encode(sentence);
            Assert.That(input.Tokens[1..^1], Is.EqualTo(expected), sentence);
            compared++;
        }
        Assert.That(compared, Is.GreaterThan(2500));
    }

    [Test]
    public void WordsSplitIntoWordPiecesWithContiguousSpans()
    {
        // SST-2 train line 9 has "gags", which the vocabulary only covers as "gag" + "##s".
        string sentence = Tasks.Get("sst2").Load(TestData.Root, "train").Examples[8].Text;
        TokenizedInput input = TestData.Tokenizer.Encode(sentence);
        int at = Array.IndexOf(input.Tokens, "gag");
        Assert.That(at, Is.GreaterThan(0));
        Assert.That(input.Tokens[at + 1], Is.EqualTo("##s"));
        Assert.That(input.Ids[at + 1], Is.EqualTo(Array.IndexOf(TestData.VocabLines, "##s")));
        Assert.That(input.Spans[at + 1].Start, Is.EqualTo(input.Spans[at].End), "a ## piece starts where its word's previous piece ends");
        Assert.That(sentence.Substring(input.Spans[at].Start, input.Spans[at].Length + input.Spans[at + 1].Length), Is.EqualTo("gags"));
    }

    [Test]
    public void CharacterOutsideTheVocabularyBecomesUnk()
    {
        string sentence = Tasks.Get("sst2").Load(TestData.Root, "dev").Examples[0].Text + " \U0001F600";
        Assert.That(TestData.Tokenizer.TokenToId("\U0001F600"), Is.Null, "the emoji is not in the vocabulary");
        TokenizedInput input = TestData.Tokenizer.Encode(sentence);
        int unk = input.Length - 2;
        Assert.That(input.Tokens[unk], Is.EqualTo("[UNK]"));
        Assert.That(input.Ids[unk], Is.EqualTo(Array.IndexOf(TestData.VocabLines, "[UNK]")).And.EqualTo(100));
        Assert.That(sentence.Substring(input.Spans[unk].Start, input.Spans[unk].Length), Is.EqualTo("\U0001F600"));
    }

    [Test]
    public void AccentsAreStrippedAndSpansCoverTheAccentedWord()
    {
        // SST-2 dev line 847: "how do you spell cliché ?"
        var dev = Tasks.Get("sst2").Load(TestData.Root, "dev").Examples;
        string sentence = dev[846].Text;
        Assert.That(sentence, Does.Contain("cliché"));
        TokenizedInput input = TestData.Tokenizer.Encode(sentence);
        int start = sentence.IndexOf("cliché", StringComparison.Ordinal);
        TokenRange range = input.TokensOverlapping(0, start, "cliché".Length)!.Value;
        string joined = string.Concat(input.Tokens[range.First..(range.Last + 1)].Select(t => t.TrimStart('#')));
        Assert.That(joined, Is.EqualTo("cliche"));
        Assert.That(input.Spans[range.Last].End, Is.EqualTo(start + "cliché".Length));
        Assert.That(input.Tokens, Has.None.EqualTo("[UNK]"));
    }

    [TestCase("Héllo NAÏVE Café", new[] { "hello", "naive", "cafe" })]
    [TestCase("cafe\u0301", new[] { "cafe" })] // a combining accent written as its own character
    [TestCase("line\nbreak\ttab", new[] { "line", "break", "tab" })]
    [TestCase("`` $5 + a|b ~", new[] { "`", "`", "$", "5", "+", "a", "|", "b", "~" })]
    public void BasicTokenizationFollowsUncasedBert(string text, string[] expected)
    {
        TokenizedInput input = TestData.Tokenizer.Encode(text);
        Assert.That(input.Tokens[1..^1], Is.EqualTo(expected));
    }

    [TestCase("soft\u00ADhyphen", "softhyphen")] // format characters are removed, not split on
    [TestCase("zero\u200Bwidth", "zerowidth")]
    [TestCase("\u0130stanbul", "istanbul")] // U+0130 has no simple lower-case mapping; folding ends it as "i"
    [TestCase("A\u00A0B", "a b")] // no-break space is whitespace
    public void TextTokenizesLikeItsPlainEquivalent(string text, string plain)
    {
        Assert.That(TestData.Tokenizer.Encode(text).Ids, Is.EqualTo(TestData.Tokenizer.Encode(plain).Ids));
    }

    [Test]
    public void HangulIsDecomposedAndCjkIdeographsStandAlone()
    {
        TokenizedInput input = TestData.Tokenizer.Encode("北京abc");
        Assert.That(input.Tokens[1], Is.EqualTo("北"));
        Assert.That(input.Tokens[2], Is.EqualTo("京"));
        Assert.That(input.Spans[3].Start, Is.EqualTo(2));
        TokenizedInput hangul = TestData.Tokenizer.Encode("한");
        Assert.That(hangul.Tokens[1], Is.EqualTo("ᄒ"), "U+D55C decomposes to jamo U+1112 U+1161 U+11AB");
        Assert.That(hangul.Spans.Where(s => !s.IsSpecial), Has.All.Matches<TokenSpan>(s => s.Start == 0 && s.Length == 1));
    }

    [Test]
    public void TokensMapBackToTheirSourceSubstrings()
    {
        var squad = TestData.EveryNth(Squad.Load(TestData.Root, "dev-b"), 40).ToArray();
        var texts = RealSentences().Concat(squad.Select(q => q.Context)).Concat(squad.Select(q => q.Question));
        int asciiChecked = 0;
        foreach (string text in texts)
        {
            TokenizedInput input = TestData.Tokenizer.Encode(text, maxLength: 100_000);
            int previousEnd = 0;
            for (int i = 1; i < input.Length - 1; i++)
            {
                TokenSpan span = input.Spans[i];
                Assert.That(span.Segment, Is.EqualTo(0));
                Assert.That(span.Length, Is.GreaterThan(0));
                Assert.That(span.Start, Is.GreaterThanOrEqualTo(previousEnd), "spans are in order and do not overlap");
                previousEnd = span.End;
                string source = text.Substring(span.Start, span.Length);
                string token = input.Tokens[i].StartsWith("##") ? input.Tokens[i][2..] : input.Tokens[i];
                Assert.That(source.Any(char.IsWhiteSpace), Is.False);
                if (source.All(char.IsAscii) && input.Tokens[i] != "[UNK]")
                {
                    Assert.That(source, Is.EqualTo(token).IgnoreCase, $"token {i} '{input.Tokens[i]}' of '{text}'");
                    asciiChecked++;
                }
            }
        }
        Assert.That(asciiChecked, Is.GreaterThan(40_000));
    }

    [Test]
    public void ConcurrentEncodingGivesTheSameResults()
    {
        var sentences = Tasks.Get("sst2").Load(TestData.Root, "dev").Examples.Select(e => e.Text).ToArray();
        var sequential = sentences.Select(s => TestData.Tokenizer.Encode(s).Ids).ToArray();
        var parallel = new int[sentences.Length][];
        Parallel.For(0, sentences.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            i => parallel[i] = TestData.Tokenizer.Encode(sentences[i]).Ids);
        for (int i = 0; i < sentences.Length; i++) Assert.That(parallel[i], Is.EqualTo(sequential[i]));
    }

    [Test]
    public void SpecialTokenTextIsOrdinaryText()
    {
        TokenizedInput input = TestData.Tokenizer.Encode("a [MASK] b");
        Assert.That(input.Tokens[1..^1], Is.EqualTo(new[] { "a", "[", "mask", "]", "b" }));
    }
}
