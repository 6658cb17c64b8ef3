using System.Text.Json;
using System.Text.Json.Nodes;
using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Tests;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// Audits of the user's own texts (`facade audit --input FILE`): real SST-2 dev sentences written by the test as
/// .jsonl, .csv and .txt, audited with the tiny models. Labels add accuracy and nothing else; long texts are cut and the
/// three reports say so; a changed file never resumes from its old chunks; bad files are named by file and line.
/// </summary>
[TestFixture]
public class AuditInputTests
{
    static readonly Example[] Sentences = RealData.Sst2Dev.Examples.Skip(200).Take(10).ToArray();

    static readonly Lazy<string> Folder = new(() =>
    {
        string folder = Path.Combine(AuditModels.Folder, "audit-input");
        Directory.CreateDirectory(folder);
        return folder;
    });

    static string Write(string name, IEnumerable<string> lines)
    {
        string path = Path.Combine(Folder.Value, name);
        File.WriteAllText(path, string.Join("\n", lines) + "\n");
        return path;
    }

    static string Output(string name) => Path.Combine(Folder.Value, name);

    static AuditOptions Options(string input, string output) => new()
    {
        Input = input, OutputFolder = output, ChunkSize = 4, HeatmapSamples = 2,
        Engine = new EngineOptions { Log = TextWriter.Null },
    };

    static JsonObject ReadJson(string folder) => JsonNode.Parse(File.ReadAllText(Path.Combine(folder, AuditReporting.Json)))!.AsObject();

    /// <summary>The tiny models' labels are label0 and label1: names in any case and indices, mixed.</summary>
    static object TinyLabel(Example e, int i) => i % 2 == 0 ? $"LABEL{e.Label}" : e.Label;

    /// <summary>The same ten sentences audited twice (merged model against its target, attacks on): as .jsonl with
    /// labels, and as .csv without, the way a spreadsheet writes them (an id column, the text quoted; SST-2 keeps commas).</summary>
    static readonly Lazy<(AuditReport Labelled, AuditReport Unlabelled, string Jsonl)> Audits = new(() =>
    {
        string jsonl = Write("reviews.jsonl", Sentences.Select((e, i) => JsonSerializer.Serialize(new Dictionary<string, object> { ["text"] = e.Text, ["label"] = TinyLabel(e, i) })));
        string csv = Write("reviews.csv", ["id,review", .. Sentences.Select((e, i) => $"{i + 1},\"{e.Text.Replace("\"", "\"\"")}\"")]);
        var labelled = AuditRunner.Run(Options(jsonl, Output("labelled")), AuditModels.PathOf("merged-noisy"), AuditModels.PathOf("target-a"), TextWriter.Null);
        var unlabelled = AuditRunner.Run(Options(csv, Output("unlabelled")) with { Columns = new CorpusColumns { Text = "review" } },
            AuditModels.PathOf("merged-noisy"), AuditModels.PathOf("target-a"), TextWriter.Null);
        return (labelled, unlabelled, jsonl);
    });

    [Test]
    public void LabelledJsonLinesAuditWritesAccuracyInEveryReport()
    {
        var (report, _, jsonl) = Audits.Value;
        string folder = Output("labelled");
        foreach (var file in new[] { AuditReporting.Json, AuditReporting.Markdown, AuditReporting.Html })
            Assert.That(File.Exists(Path.Combine(folder, file)), file);
        Assert.That(ReportSchema.Violations(Path.Combine(folder, AuditReporting.Json)), Is.Empty);

        var json = ReadJson(folder);
        Assert.That(json["model"]!["accuracy"]!.GetValue<double>(), Is.EqualTo(report.Model.Accuracy));
        Assert.That(json["compare"]!["accuracy"], Is.Not.Null);
        Assert.That(json["comparison"]!["accuracy_difference"], Is.Not.Null);
        Assert.That(json["input"]!["sha256"]!.GetValue<string>(), Is.EqualTo(Hashing.Sha256File(jsonl)));
        Assert.That(json["input"]!["labelled"]!.GetValue<bool>(), Is.True);
        Assert.That(json["input"]!["format"]!.GetValue<string>(), Is.EqualTo("json_lines"));
        Assert.That(json["split"]!.GetValue<string>(), Is.EqualTo("reviews.jsonl"));
        Assert.That(json["task"]!.GetValue<string>(), Is.EqualTo("sst2"), "without --task the model's own task");
        Assert.That(json["data_files"]!.AsObject(), Is.Empty, "the input is not a file of the data root");
        Assert.That(File.ReadAllText(Path.Combine(folder, AuditReporting.Markdown)), Does.Contain("| accuracy |").And.Contain("reviews.jsonl"));
        Assert.That(File.ReadAllText(Path.Combine(folder, AuditReporting.Html)), Does.Contain("<td>accuracy</td>"));
    }

    [Test]
    public void AccuracyIsComputedAgainstTheFilesLabels()
    {
        // The labelled audit's accuracy counts predictions equal to the SST-2 gold labels written into the file.
        var report = Audits.Value.Labelled;
        using var engine = GradientEngine.Load(AuditModels.PathOf("merged-noisy"), new EngineOptions { Log = TextWriter.Null });
        var predictions = engine.Predict(Sentences.Select(e => engine.Encode(e.Text)).ToArray());
        double accuracy = Sentences.Zip(predictions).Average(p => p.First.Label == p.Second.Label ? 1.0 : 0.0);
        Assert.That(report.Model.Accuracy, Is.EqualTo(accuracy));
    }

    [Test]
    public void UnlabelledCsvAuditHasNoAccuracyAnywhereAndTheSameOtherNumbers()
    {
        var (labelled, report, _) = Audits.Value;
        string folder = Output("unlabelled");
        Assert.That(ReportSchema.Violations(Path.Combine(folder, AuditReporting.Json)), Is.Empty);
        var json = ReadJson(folder);
        Assert.That(json["model"]!.AsObject().ContainsKey("accuracy"), Is.False, "absent, not zero");
        Assert.That(json["compare"]!.AsObject().ContainsKey("accuracy"), Is.False);
        Assert.That(json["comparison"]!.AsObject().ContainsKey("accuracy_difference"), Is.False);
        Assert.That(json["comparison"]!["prediction_agreement"], Is.Not.Null, "agreement between models needs no labels");
        Assert.That(json["input"]!["labelled"]!.GetValue<bool>(), Is.False);
        Assert.That(json["input"]!["text_column"]!.GetValue<string>(), Is.EqualTo("review"));
        Assert.That(File.ReadAllText(Path.Combine(folder, AuditReporting.Markdown)), Does.Not.Contain("| accuracy |").And.Contain("no accuracy"));
        Assert.That(File.ReadAllText(Path.Combine(folder, AuditReporting.Html)), Does.Not.Contain("<td>accuracy</td>"));

        // Labels change nothing else: the same sentences give the same saliency metrics, attacks and verdicts.
        Assert.That(JsonSerializer.Serialize(report.Model.FirstToken), Is.EqualTo(JsonSerializer.Serialize(labelled.Model.FirstToken)));
        Assert.That(JsonSerializer.Serialize(report.Compare!.StopWords), Is.EqualTo(JsonSerializer.Serialize(labelled.Compare!.StopWords)));
        Assert.That(JsonSerializer.Serialize(report.Model.HotFlip), Is.EqualTo(JsonSerializer.Serialize(labelled.Model.HotFlip)));
        Assert.That(report.Model.Verdict.Verdict, Is.EqualTo(labelled.Model.Verdict.Verdict));
        Assert.That(report.Comparison!.PredictionAgreement, Is.EqualTo(labelled.Comparison!.PredictionAgreement));
    }

    [Test]
    public void LongTextsAreCutAndEveryReportSaysHowMuch()
    {
        // Four texts of several hundred words, each joined from 25 consecutive dev sentences, between two short ones.
        var dev = RealData.Sst2Dev.Examples;
        string[] texts = [dev[0].Text, .. Enumerable.Range(0, 4).Select(k => string.Join(" ", dev.Skip(300 + 25 * k).Take(25).Select(e => e.Text))), dev[1].Text];
        Assert.That(texts[1..5].Select(t => t.Split(' ').Length), Has.All.GreaterThan(300), "several hundred words each");
        string input = Write("long.txt", texts);
        string folder = Output("long");
        const int maxLength = 64;
        var report = AuditRunner.Run(Options(input, folder) with { Attacks = false, Engine = new EngineOptions { Log = TextWriter.Null, MaxLength = maxLength } },
            AuditModels.PathOf("target-a"), null, TextWriter.Null);

        // What each text loses, counted from encodings without a limit.
        var tokenizer = WordPieceTokenizer.MiniLm();
        var lost = texts.Select(t => tokenizer.Encode(t, maxLength: 100_000).Length - maxLength).Where(d => d > 0).Order().ToArray();
        Assert.That(lost, Has.Length.EqualTo(4));
        var truncation = report.Truncation!;
        Assert.That((truncation.MaxLength, truncation.Texts, truncation.TextsCut), Is.EqualTo((maxLength, 6, 4)));
        Assert.That(truncation.MedianPiecesDropped, Is.EqualTo((lost[1] + lost[2]) / 2.0));
        Assert.That(truncation.MaxPiecesDropped, Is.EqualTo(lost[^1]));

        var json = ReadJson(folder)["truncation"]!;
        Assert.That(json["texts_cut"]!.GetValue<int>(), Is.EqualTo(4));
        Assert.That(ReadJson(folder)["input"]!.AsObject().ContainsKey("text_column"), Is.False, "a .txt file has no columns");
        Assert.That(json["max_pieces_dropped"]!.GetValue<int>(), Is.EqualTo(lost[^1]));
        Assert.That(ReportSchema.Violations(Path.Combine(folder, AuditReporting.Json)), Is.Empty);
        Assert.That(File.ReadAllText(Path.Combine(folder, AuditReporting.Markdown)), Does.Contain("- truncation: " + truncation.Describe()));
        Assert.That(File.ReadAllText(Path.Combine(folder, AuditReporting.Html)), Does.Contain(System.Net.WebUtility.HtmlEncode(truncation.Describe())));
        Assert.That(truncation.Describe(), Does.Contain($"4 of 6 texts").And.Contain($"max {lost[^1]}"));
        Assert.That(report.Samples.Select(s => s.Tokens.Length), Has.All.LessThanOrEqualTo(maxLength));
    }

    [Test]
    public void PairsFollowTheFile()
    {
        string input = Write("pairs.jsonl", Sentences.Take(4).Select((e, i) =>
            JsonSerializer.Serialize(new { text = e.Text, text_pair = Sentences[i + 4].Text })));
        string folder = Output("pairs");
        var report = AuditRunner.Run(Options(input, folder) with { Attacks = false }, AuditModels.PathOf("target-a"), null, TextWriter.Null);
        Assert.That(report.Segment, Is.EqualTo(nameof(Segment.Second)), "pairs are audited on the second text by default");
        Assert.That(report.Input!.Pairs, Is.True);
        Assert.That(report.Samples.Select(s => s.Tokens.Count(t => t == "[SEP]")), Has.All.EqualTo(2));
        Assert.That(report.Model.Accuracy, Is.Null);
    }

    [Test]
    public void LimitAuditsTheFirstRecordsAndSamplesKeepTheirRecordIndex()
    {
        string input = Write("limit.txt", Sentences.Select(e => e.Text));
        string folder = Output("limit");
        var report = AuditRunner.Run(Options(input, folder) with { Attacks = false, Limit = 7, HeatmapSamples = 3 }, AuditModels.PathOf("target-b"), null, TextWriter.Null);
        Assert.That((report.Input!.Records, report.Input.Audited, report.Model.Sentences), Is.EqualTo((10, 7, 7)));
        var tokenizer = WordPieceTokenizer.MiniLm();
        foreach (var sample in report.Samples)
            Assert.That(sample.Tokens, Is.EqualTo(tokenizer.Encode(Sentences[sample.Index].Text, maxLength: 512).Tokens), $"sample {sample.Index}");
    }

    [Test]
    public void ChangedInputFileNeverResumesFromStaleChunks()
    {
        string input = Write("changing.txt", Sentences.Take(8).Select(e => e.Text));
        string folder = Output("changing");
        var options = Options(input, folder) with { Attacks = false, InterruptAfterChunks = 1 };
        Assert.Throws<OperationCanceledException>(() => AuditRunner.Run(options, AuditModels.PathOf("target-a"), null, TextWriter.Null));
        string[] before = Directory.GetDirectories(Path.Combine(folder, AuditRunner.StateFolder));
        Assert.That(before, Has.Length.EqualTo(1));

        // The first chunk's sentences change; a resumed audit would report the old ones.
        Write("changing.txt", Sentences.Skip(2).Take(8).Select(e => e.Text));
        var log = new StringWriter();
        var report = AuditRunner.Run(options with { InterruptAfterChunks = null }, AuditModels.PathOf("target-a"), null, log);
        Assert.That(log.ToString(), Does.Not.Contain("Resuming"));
        Assert.That(report.Input!.Sha256, Is.EqualTo(Hashing.Sha256File(input)));
        Assert.That(Directory.GetDirectories(Path.Combine(folder, AuditRunner.StateFolder)), Is.EqualTo(before), "only the stale state is left");
        var tokenizer = WordPieceTokenizer.MiniLm();
        Assert.That(report.Samples[0].Tokens, Is.EqualTo(tokenizer.Encode(Sentences[2].Text, maxLength: 512).Tokens));
    }

    [Test]
    public void BadInputFilesAreNamedByFileAndLineBeforeAnyWork()
    {
        string unknown = Write("unknown-label.jsonl", [JsonSerializer.Serialize(new { text = Sentences[0].Text, label = 1 }), JsonSerializer.Serialize(new { text = Sentences[1].Text, label = "positive" })]);
        var error = Assert.Throws<FacadeException>(() => AuditRunner.Run(Options(unknown, Output("x")), AuditModels.PathOf("target-a"), null, TextWriter.Null))!;
        Assert.That(error.Message, Does.Contain($"{unknown}:2:").And.Contain("unknown label 'positive'").And.Contain("label0, label1"));

        string csv = Write("columns.csv", ["sentence,label", $"\"{Sentences[0].Text}\",1"]);
        error = Assert.Throws<FacadeException>(() => AuditRunner.Run(Options(csv, Output("y")), AuditModels.PathOf("target-a"), null, TextWriter.Null))!;
        Assert.That(error.Message, Does.Contain($"{csv}:1:").And.Contain("no column 'text'").And.Contain("'sentence', 'label'"));

        string malformed = Write("malformed.jsonl", [JsonSerializer.Serialize(new { text = Sentences[0].Text }), "{\"text\": \"unclosed"]);
        error = Assert.Throws<FacadeException>(() => AuditRunner.Run(Options(malformed, Output("z")), AuditModels.PathOf("target-a"), null, TextWriter.Null))!;
        Assert.That(error.Message, Does.Contain($"{malformed}:2:").And.Contain("not valid JSON"));

        string empty = Write("empty.txt", ["", "  "]);
        error = Assert.Throws<FacadeException>(() => AuditRunner.Run(Options(empty, Output("w")), AuditModels.PathOf("target-a"), null, TextWriter.Null))!;
        Assert.That(error.Message, Does.Contain(empty).And.Contain("holds no texts"));
        foreach (var name in new[] { "x", "y", "z", "w" }) Assert.That(Directory.Exists(Output(name)), Is.False, $"{name}: nothing written");
    }
}
