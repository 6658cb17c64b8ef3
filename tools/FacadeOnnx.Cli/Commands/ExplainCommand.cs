using System.CommandLine;
using System.Text.Json;
using FacadeOnnx.Runtime;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Reports;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade explain`: saliency maps of one text, or of every text of a file (--input), from a gradient model.</summary>
public static class ExplainCommand
{
    /// <summary>Records of an --input file explained per engine call.</summary>
    const int BatchSize = 16;

    /// <summary>One input with its prediction and one map per method.</summary>
    sealed record Explained(CorpusRecord? Record, TokenizedInput Input, Prediction Prediction, IReadOnlyList<SaliencyMap> Maps);

    public static Command Create()
    {
        var text = new TextArguments();
        var corpus = new CorpusArguments();
        var engine = new EngineBinder();
        var method = new Option<string>("--method") { Description = $"Methods: {SaliencyMethods.Help}.", DefaultValueFactory = _ => "all" };
        var json = new Option<bool>("--json") { Description = "Print JSON (tokens, offsets, raw and normalized scores, diagnostics) instead of the heatmap; with --input, an array with each record's index, line and gold label." };
        var html = new Option<string?>("--html") { Description = "Also write an HTML heatmap page to this file (with --input, one table per record)." };
        var limit = new Option<int?>("--limit") { Description = "With --input: explain only the first N records." };
        var maxLength = CommonOptions.MaxLength();
        var command = new Command("explain",
            "Explain predictions: saliency of every word piece under simple gradient (gradient x input), SmoothGrad, " +
            "Integrated Gradients and leave-one-out, as a coloured terminal heatmap (one row per method), JSON, or HTML; " +
            "for one text, or for every text of your own file (--input).\n\n" +
            "Examples:\n  facade explain --model models/sst2-merged-first.onnx \"a gorgeous, witty, seductive movie.\"\n" +
            "  facade explain --model models/snli-target.onnx --method ig --json --premise \"a man plays a guitar .\" --hypothesis \"a man is playing music .\"\n" +
            "  facade explain --model runs/sst2-quick/merged.onnx --input reviews.txt --limit 5\n" +
            "  facade explain --model runs/sst2-quick/merged.onnx --input reviews.csv --text-column review --json > explanations.json\n" +
            "  facade explain --model models/squad-target.onnx --question \"Who won?\" --context \"The Broncos won the game.\"\n\n" +
            CorpusArguments.FormatsHelp)
        { method, json, html, limit, maxLength };
        text.AddTo(command);
        corpus.AddTo(command);
        engine.AddTo(command);
        command.SetAction(parse => CliRunner.Run(() =>
        {
            var settings = engine.Saliency(parse);
            var methods = SaliencyMethods.Parse(parse.GetValue(method)!, settings);
            bool fromFile = corpus.File(parse) != null;
            if (fromFile && text.Given(parse)) throw new FacadeException("Give either TEXT (or --premise/--hypothesis) or --input FILE, not both.");
            if (parse.GetValue(limit) is int n)
            {
                if (!fromFile) throw new FacadeException("--limit counts the records of --input FILE; give it with --input.");
                if (n < 1) throw new FacadeException($"--limit must be at least 1 (got {n}).");
            }
            var question = text.QuestionAndContext(parse);
            using var explainer = Explainer.Load(parse.GetValue(text.Model)!, engine.Engine(parse) with { MaxLength = parse.GetValue(maxLength) }, settings);
            if (explainer.Engine.Model.IsSpan)
            {
                if (fromFile) throw new FacadeException($"'{explainer.Engine.Model.Path}' is a span (SQuAD) model; --input files hold texts for classifiers. Give --question and --context.");
                var (q, c) = question ?? throw new FacadeException($"'{explainer.Engine.Model.Path}' is a span (SQuAD) model: give --question and --context.");
                // "all" means every method a span model has: leave-one-out reads classifiers only.
                var spanMethods = parse.GetValue(method)!.Trim().Equals("all", StringComparison.OrdinalIgnoreCase) ? methods.Where(m => m is not LeaveOneOut).ToArray() : methods;
                return ExplainAnswer(explainer, spanMethods, q, c, parse.GetValue(json), parse.GetValue(html));
            }
            if (question != null) throw new FacadeException($"--question and --context need a span (SQuAD) model; '{explainer.Engine.Model.Path}' is a classifier.");
            var single = fromFile ? default : text.Input(parse);
            var records = fromFile ? corpus.Read(parse, explainer.LabelNames).Records.Take(parse.GetValue(limit) ?? int.MaxValue).ToArray() : null;
            var batches = records == null
                ? [[(Record: (CorpusRecord?)null, Input: explainer.Encode(single.Text, single.Pair))]]
                : records.Chunk(BatchSize).Select(batch => batch.Select(r => (Record: (CorpusRecord?)r, Input: explainer.Encode(r.Text, r.Pair))).ToArray());
            bool asJson = parse.GetValue(json);
            string? page = parse.GetValue(html);
            var shown = new List<Explained>();
            if (asJson && records != null) Console.WriteLine("[");
            foreach (var batch in batches)
                foreach (var item in Explain(explainer, methods, batch))
                {
                    TextArguments.NoteTruncation(item.Input, item.Record is null ? "the input" : Where(item.Record));
                    if (asJson)
                    {
                        string one = JsonSerializer.Serialize(ExplanationJson.Create(explainer, item.Input, item.Prediction, item.Maps, item.Record), ExplanationJson.Options);
                        Console.WriteLine(records == null || item.Record!.Index == 0 ? one : "," + one);
                    }
                    else
                        Print(explainer, item);
                    if (page != null) shown.Add(item);
                }
            if (asJson && records != null) Console.WriteLine("]");
            if (page != null)
            {
                var first = shown[0];
                FacadeOnnx.AtomicFile.WriteAllText(page, records == null
                    ? HeatmapHtml.Page($"Saliency: {Predicted(explainer, first)}", $"{explainer.Engine.Model.Path} — {string.Join(" ", first.Input.Tokens)}", first.Maps)
                    : HeatmapHtml.Page($"Saliency: {records.Length} records of {Path.GetFileName(corpus.File(parse))}", explainer.Engine.Model.Path,
                        shown.Select(e => ((string?)$"{Heading(explainer, e)} — {string.Join(" ", e.Input.Tokens)}", e.Maps))));
                Console.Error.WriteLine($"wrote {page}");
            }
            return 0;
        }));
        return command;
    }

    /// <summary>A span model's answer to one question, and the saliency of the window it was read from.</summary>
    static int ExplainAnswer(Explainer explainer, IReadOnlyList<SaliencyMethod> methods, string question, string context, bool asJson, string? page)
    {
        var answer = explainer.Answer(question, context);
        var input = answer.Window.Input;
        var maps = methods.Select(m => explainer.Explain([input], m, [answer.Prediction])[0]).ToArray();
        var span = answer.Prediction.Span!.Value;
        string heading = $"answer: \"{answer.Text}\" ({answer.Prediction.Probability:P1}; pieces {span.Start}–{span.End} of window {answer.Window.WindowIndex + 1})";
        if (asJson)
        {
            var json = ExplanationJson.Create(explainer, input, answer.Prediction, maps, null);
            Console.WriteLine(JsonSerializer.Serialize(new { answer = answer.Text, start = span.Start, end = span.End, window = answer.Window.WindowIndex, explanation = json }, ExplanationJson.Options));
        }
        else
        {
            Console.WriteLine(heading);
            Console.Write(TerminalHeatmap.Render(maps, TerminalHeatmap.ColorSupported()));
        }
        if (page != null)
        {
            FacadeOnnx.AtomicFile.WriteAllText(page, HeatmapHtml.Page($"Saliency: {heading}", $"{explainer.Engine.Model.Path} — {string.Join(" ", input.Tokens)}", maps));
            Console.Error.WriteLine($"wrote {page}");
        }
        return 0;
    }

    /// <summary>Predictions and every method's maps for a batch of inputs (each input's own predicted label).</summary>
    static IEnumerable<Explained> Explain(Explainer explainer, IReadOnlyList<SaliencyMethod> methods, IReadOnlyList<(CorpusRecord? Record, TokenizedInput Input)> batch)
    {
        var inputs = batch.Select(b => b.Input).ToArray();
        var predictions = explainer.Engine.Predict(inputs);
        var maps = methods.Select(m => explainer.Explain(inputs, m, predictions)).ToArray();
        return batch.Select((b, i) => new Explained(b.Record, b.Input, predictions[i], maps.Select(m => m[i]).ToArray()));
    }

    static string Where(CorpusRecord record) => $"record {record.Index} (line {record.Line})";

    static string Predicted(Explainer explainer, Explained item) =>
        $"{explainer.LabelNames[item.Prediction.Label]} ({item.Prediction.Probability:P1})";

    /// <summary>"prediction: positive (97.1 %)", after the record's index and line and followed by its gold label for --input.</summary>
    static string Heading(Explainer explainer, Explained item) => item.Record is { } r
        ? $"{Where(r)}: prediction: {Predicted(explainer, item)}" + (r.Label is int gold ? $", gold: {explainer.LabelNames[gold]}" : "")
        : $"prediction: {Predicted(explainer, item)}";

    /// <summary>The terminal heatmap of one input under its heading, and IG's completeness check; records are set apart by a blank line.</summary>
    static void Print(Explainer explainer, Explained item)
    {
        if (item.Record?.Index > 0) Console.WriteLine();
        Console.WriteLine(Heading(explainer, item));
        Console.Write(TerminalHeatmap.Render(item.Maps, TerminalHeatmap.ColorSupported()));
        foreach (var ig in item.Maps.Where(m => m.Diagnostics.ContainsKey("completeness_gap")))
            Console.WriteLine($"ig completeness: attributions sum to {ig.Diagnostics["attribution_sum"]:G4}, loss difference {ig.Diagnostics["loss_delta"]:G4} " +
                              $"(relative gap {ig.Diagnostics["completeness_gap"]:P1}, {ig.Diagnostics["steps"]:F0} steps)");
    }
}
