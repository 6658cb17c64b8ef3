using System.Text.Json;
using FacadeOnnx.Text;

namespace FacadeOnnx.Text.Tests;

/// <summary>
/// A user's own texts (.txt, .jsonl, .csv, .tsv) read back exactly, with record indices, line numbers, the file's hash
/// and labels resolved against the model's names; real SST-2 dev sentences written by the test into a temporary folder.
/// </summary>
[TestFixture]
public class UserCorpusTests : TempFolderFixture
{
    static readonly IReadOnlyList<string> Labels = Sst2.LabelNames;
    static readonly Lazy<IReadOnlyList<Example>> Dev = new(() => Tasks.Sst2.Load(TestData.Root, "dev").Examples);

    /// <summary>A CSV/TSV field as a spreadsheet writes it: quoted when it holds the separator, a quote or a line break.</summary>
    static string Field(string value, char separator) =>
        value.IndexOfAny([separator, '"', '\n', '\r']) < 0 ? value : "\"" + value.Replace("\"", "\"\"") + "\"";

    static string Json(object value) => JsonSerializer.Serialize(value);

    [Test]
    public void TextFileGivesOneRecordPerNonBlankLine()
    {
        var sentences = Dev.Value.Take(20).Select(e => e.Text).ToArray();
        // Blank and whitespace-only lines between the sentences, CRLF line ends, no final newline.
        string text = string.Join("\r\n", sentences.SelectMany((s, i) => i % 3 == 0 ? new[] { s, "", "   " } : [s]));
        string path = Write("texts.txt", text);

        var corpus = UserCorpus.Read(path, Labels);
        Assert.That(corpus.Format, Is.EqualTo(CorpusFormat.Lines));
        Assert.That(corpus.Records.Select(r => r.Text), Is.EqualTo(sentences));
        Assert.That(corpus.Records.Select(r => r.Index), Is.EqualTo(Enumerable.Range(0, sentences.Length)));
        var lines = File.ReadAllLines(path);
        foreach (var r in corpus.Records) Assert.That(lines[r.Line - 1], Is.EqualTo(r.Text), $"record {r.Index} names its line");
        Assert.That(corpus.HasLabels, Is.False);
        Assert.That(corpus.IsPairs, Is.False);
        Assert.That(corpus.Sha256, Is.EqualTo(Hashing.Sha256File(path)));
    }

    [Test]
    public void JsonLinesKeepPairsAndResolveLabelsByNameOrIndex()
    {
        var examples = Dev.Value.Take(12).ToArray();
        // Labels as a name in any case, as a JSON number and as a string holding a number.
        object Label(int i, int label) => (i % 3) switch { 0 => Labels[label].ToUpperInvariant(), 1 => label, _ => label.ToString() };
        string text = string.Join("\n", examples.Select((e, i) => Json(new Dictionary<string, object>
        {
            ["id"] = i, ["text"] = e.Text, ["text_pair"] = examples[(i + 1) % examples.Length].Text, ["label"] = Label(i, e.Label),
        }))) + "\n\n";
        var corpus = UserCorpus.Read(Write("pairs.jsonl", text), Labels);

        Assert.That(corpus.IsPairs && corpus.HasLabels);
        Assert.That(corpus.Records.Select(r => r.Text), Is.EqualTo(examples.Select(e => e.Text)));
        Assert.That(corpus.Records.Select(r => r.Pair), Is.EqualTo(examples.Select((_, i) => examples[(i + 1) % examples.Length].Text)));
        Assert.That(corpus.Records.Select(r => r.Label), Is.EqualTo(examples.Select(e => (int?)e.Label)));
        Assert.That(corpus.Records.Select(r => r.Line), Is.EqualTo(Enumerable.Range(1, examples.Length)));
    }

    [TestCase(',', "texts.csv")]
    [TestCase('\t', "texts.tsv")]
    public void DelimitedFilesKeepQuotedSeparatorsQuotesAndLineBreaks(char separator, string name)
    {
        var examples = Dev.Value.Skip(40).Take(10).ToArray();
        // Real sentences (SST-2 keeps commas as tokens), made harder: quotes, the separator and line breaks inside fields.
        string Hard(string s, int i) => (i % 4) switch
        {
            0 => $"she said \"{s}\"",
            1 => s.Replace(" ", "\t", StringComparison.Ordinal) + ", really",
            2 => s + "\nsecond line,\r\nthird line",
            _ => s,
        };
        var texts = examples.Select((e, i) => Hard(e.Text, i)).ToArray();
        string sep = separator.ToString();
        string body = $"id{sep}review{sep}sentiment{sep}premise\r\n" + string.Join("\r\n", examples.Select((e, i) =>
            string.Join(sep, (i + 100).ToString(), Field(texts[i], separator), Field(Labels[e.Label], separator), Field(examples[^(i + 1)].Text, separator))));
        string path = Write(name, body + "\r\n");

        var corpus = UserCorpus.Read(path, Labels, new CorpusColumns { Text = "review", Label = "sentiment", Pair = "premise" });
        Assert.That(corpus.Records.Select(r => r.Text), Is.EqualTo(texts));
        Assert.That(corpus.Records.Select(r => r.Pair), Is.EqualTo(examples.Select((_, i) => examples[^(i + 1)].Text)));
        Assert.That(corpus.Records.Select(r => r.Label), Is.EqualTo(examples.Select(e => (int?)e.Label)));
        // Each record starts on the line after the previous one's last line: fields with line breaks span lines.
        int expected = 2;
        foreach (var (r, t) in corpus.Records.Zip(texts))
        {
            Assert.That(r.Line, Is.EqualTo(expected), $"record {r.Index}");
            expected += t.Count(c => c == '\n') + 1;
        }

        var unlabelled = UserCorpus.Read(path, Labels, new CorpusColumns { Text = "review" });
        Assert.That(unlabelled.HasLabels || unlabelled.IsPairs, Is.False, "a .csv has labels and pairs only when their columns are named");
    }

    [Test]
    public void HashFollowsTheBytes()
    {
        string path = Write("a.txt", Dev.Value[0].Text + "\n");
        string before = UserCorpus.Read(path, Labels).Sha256;
        File.AppendAllText(path, Dev.Value[1].Text + "\n");
        Assert.That(UserCorpus.Read(path, Labels).Sha256, Is.Not.EqualTo(before).And.EqualTo(Hashing.Sha256File(path)));
    }

    /// <summary>Each case: a file, the line the error must name (0: none), and words the message must contain.</summary>
    static IEnumerable<TestCaseData> Malformed()
    {
        string s = "a gorgeous , witty , seductive movie .";
        yield return new TestCaseData("bad.jsonl", $"{{\"text\": \"{s}\"}}\n{{\"text\": \"{s}\"\n", 2, new[] { "not valid JSON" }).SetName("MalformedJsonLine");
        yield return new TestCaseData("bad.jsonl", $"{{\"text\": \"{s}\"}}\n\n{{\"review\": \"{s}\", \"label\": 1}}\n", 3, new[] { "no \"text\"", "review, label" }).SetName("JsonLineWithoutText");
        yield return new TestCaseData("bad.jsonl", $"[\"{s}\"]\n", 1, new[] { "array, not an object" }).SetName("JsonLineNotAnObject");
        yield return new TestCaseData("bad.jsonl", $"{{\"text\": 42}}\n", 1, new[] { "\"text\" is a JSON number" }).SetName("JsonTextNotAString");
        yield return new TestCaseData("bad.jsonl", $"{{\"text\": \"{s}\", \"label\": \"neutral\"}}\n", 1, new[] { "unknown label 'neutral'", "negative, positive" }).SetName("UnknownLabelName");
        yield return new TestCaseData("bad.jsonl", $"{{\"text\": \"{s}\", \"label\": 2}}\n", 1, new[] { "label index 2 is out of range", "negative, positive", "0 to 1" }).SetName("LabelIndexOutOfRange");
        yield return new TestCaseData("bad.jsonl", $"{{\"text\": \"{s}\", \"label\": 1}}\n{{\"text\": \"{s}\"}}\n", 2, new[] { "no label", "line 1", "every record or none" }).SetName("LabelsOnSomeRecordsOnly");
        yield return new TestCaseData("bad.jsonl", $"{{\"text\": \"{s}\"}}\n{{\"text\": \"{s}\", \"text_pair\": \"{s}\"}}\n", 2, new[] { "pair", "throughout" }).SetName("PairsOnSomeRecordsOnly");
        yield return new TestCaseData("bad.jsonl", $"{{\"text\": \"  \"}}\n", 1, new[] { "text is empty" }).SetName("EmptyText");
        yield return new TestCaseData("bad.csv", $"text,label\n\"{s}\",positive\n{s},positive\n", 3, new[] { "4 field(s)", "header has 2", "'text', 'label'" }).SetName("CsvRowWithTooManyFields");
        yield return new TestCaseData("bad.csv", $"text,label\n\"{s},positive\n", 2, new[] { "closing quote is missing" }).SetName("CsvUnclosedQuote");
        yield return new TestCaseData("bad.csv", $"text,label\n\"{s}\"x,1\n", 2, new[] { "'x' follows a closing quote" }).SetName("CsvTextAfterClosingQuote");
        yield return new TestCaseData("bad.csv", $"sentence,label\n\"{s}\",1\n", 1, new[] { "no column 'text'", "'sentence', 'label'", "--text-column" }).SetName("CsvMissingColumn");
        yield return new TestCaseData("bad.tsv", $"text\tlabel\n{s}\tgreat\n", 2, new[] { "unknown label 'great'", "negative, positive" }).SetName("TsvUnknownLabel");
        yield return new TestCaseData("empty.txt", "\n  \n\n", 0, new[] { "holds no texts", "one text a line" }).SetName("EmptyTextFile");
        yield return new TestCaseData("empty.jsonl", "", 0, new[] { "holds no texts", "one JSON object a line" }).SetName("EmptyJsonLinesFile");
        yield return new TestCaseData("header.csv", "text,label\n", 0, new[] { "holds no texts", "header line" }).SetName("CsvWithOnlyAHeader");
        yield return new TestCaseData("texts.xlsx", s, 0, new[] { "unknown input format '.xlsx'", ".jsonl" }).SetName("UnknownExtension");
    }

    [TestCaseSource(nameof(Malformed))]
    public void MalformedFilesAreNamedByFileAndLine(string name, string text, int line, string[] words)
    {
        string path = Write(name, text);
        var columns = name.EndsWith(".jsonl") || name.EndsWith(".txt") || name.EndsWith(".xlsx") ? null : new CorpusColumns { Label = "label" };
        var error = Assert.Throws<FacadeException>(() => UserCorpus.Read(path, Labels, columns))!;
        Assert.That(error.Message, Does.Contain(line > 0 ? $"{path}:{line}:" : path));
        foreach (string word in words) Assert.That(error.Message, Does.Contain(word));
    }

    [Test]
    public void MissingFileAndColumnsOnATextFileAreRefused()
    {
        string missing = Path.Combine(Folder, "nowhere.jsonl");
        Assert.That(Assert.Throws<FacadeException>(() => UserCorpus.Read(missing, Labels))!.Message, Does.Contain(missing).And.Contain("does not exist"));
        string txt = Write("t.txt", "fine\n");
        Assert.That(Assert.Throws<FacadeException>(() => UserCorpus.Read(txt, Labels, new CorpusColumns { Label = "label" }))!.Message, Does.Contain("no columns"));
    }
}
