using FacadeOnnx.Text;

namespace FacadeOnnx.Text.Tests;

public class SpecialTokenTests
{
    [Test]
    public void SpecialIdsAreTheVocabularyLinesOfTheirTokens()
    {
        var t = TestData.Tokenizer;
        string[] lines = TestData.VocabLines;
        Assert.Multiple(() =>
        {
            Assert.That(t.ClsId, Is.EqualTo(Array.IndexOf(lines, "[CLS]")).And.EqualTo(101));
            Assert.That(t.SepId, Is.EqualTo(Array.IndexOf(lines, "[SEP]")).And.EqualTo(102));
            Assert.That(t.PadId, Is.EqualTo(Array.IndexOf(lines, "[PAD]")).And.EqualTo(0));
            Assert.That(t.UnkId, Is.EqualTo(Array.IndexOf(lines, "[UNK]")).And.EqualTo(100));
            Assert.That(t.MaskId, Is.EqualTo(Array.IndexOf(lines, "[MASK]")).And.EqualTo(103));
            Assert.That(t.VocabSize, Is.EqualTo(lines.Length).And.EqualTo(30522));
        });
    }

    [Test]
    public void VocabularyLookupsAgreeWithFileLines()
    {
        var t = TestData.Tokenizer;
        string[] lines = TestData.VocabLines;
        Assert.That(t.Vocabulary, Is.EqualTo(lines));
        foreach (int id in new[] { 0, 1, 100, 1996, 7592, 14477, 30521 })
        {
            Assert.That(t.IdToToken(id), Is.EqualTo(lines[id]));
            Assert.That(t.TokenToId(lines[id]), Is.EqualTo(id));
        }
        Assert.That(t.TokenToId("no-such-entry"), Is.Null);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.IdToToken(30522));
    }

    [Test]
    public void VocabHashIsTheSameForCrlfAndLfText()
    {
        string crlf = MiniLmPackage.VocabText();
        var fromLf = WordPieceTokenizer.FromVocabText(crlf.Replace("\r\n", "\n"));
        Assert.That(fromLf.VocabHash, Is.EqualTo(TestData.Tokenizer.VocabHash));
        Assert.That(TestData.Tokenizer.VocabHash, Is.EqualTo(Hashing.Sha256(string.Join("\n", TestData.VocabLines))));
        Assert.That(TestData.Tokenizer.VocabHash, Does.Match("^[0-9a-f]{64}$"));
    }

    [Test]
    public void VocabularyFileGivesTheSameTokenizerAsText()
    {
        string folder = TestData.TempFolder();
        try
        {
            string path = Path.Combine(folder, "vocab.txt");
            File.WriteAllText(path, MiniLmPackage.VocabText());
            var fromFile = WordPieceTokenizer.FromVocabFile(path);
            Assert.That(fromFile.VocabHash, Is.EqualTo(TestData.Tokenizer.VocabHash));
            Assert.That(fromFile.Encode("a stirring , funny re-imagining").Ids,
                Is.EqualTo(TestData.Tokenizer.Encode("a stirring , funny re-imagining").Ids));
        }
        finally { Directory.Delete(folder, true); }
    }

    [Test]
    public void VocabularyWithoutSpecialTokensIsRejectedByName()
    {
        var e = Assert.Throws<FacadeException>(() => WordPieceTokenizer.FromVocabText("[PAD]\nhello\nworld\n"));
        Assert.That(e!.Message, Does.Contain("[UNK]").And.Contain("[CLS]").And.Contain("[SEP]").And.Contain("[MASK]"));
        var missingFile = Assert.Throws<FacadeException>(() => WordPieceTokenizer.FromVocabFile("/no/such/vocab.txt"));
        Assert.That(missingFile!.Message, Does.Contain("/no/such/vocab.txt"));
    }
}
