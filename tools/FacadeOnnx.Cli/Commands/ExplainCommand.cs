using System.CommandLine;
using System.Text.Json;
using FacadeOnnx.Runtime;
using FacadeOnnx.Runtime.Reports;
using FacadeOnnx.Runtime.Saliency;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade explain`: saliency maps of one text from a gradient model.</summary>
public static class ExplainCommand
{
    public static Command Create()
    {
        var text = new TextArguments();
        var engine = new EngineBinder();
        var method = new Option<string>("--method") { Description = $"Methods: {SaliencyMethods.Help}.", DefaultValueFactory = _ => "all" };
        var json = new Option<bool>("--json") { Description = "Print JSON (tokens, offsets, raw and normalized scores, diagnostics) instead of the heatmap." };
        var html = new Option<string?>("--html") { Description = "Also write an HTML heatmap page to this file." };
        var command = new Command("explain",
            "Explain one prediction: saliency of every word piece under simple gradient (gradient x input), SmoothGrad, " +
            "Integrated Gradients and leave-one-out, as a coloured terminal heatmap (one row per method), JSON, or HTML.\n\n" +
            "Examples:\n  facade explain --model models/sst2-merged-first.onnx \"a gorgeous, witty, seductive movie.\"\n" +
            "  facade explain --model models/snli-target.onnx --method ig --json --premise \"a man plays a guitar .\" --hypothesis \"a man is playing music .\"")
        { method, json, html };
        text.AddTo(command);
        engine.AddTo(command);
        command.SetAction(parse => CliRunner.Run(() =>
        {
            var settings = engine.Saliency(parse);
            var methods = SaliencyMethods.Parse(parse.GetValue(method)!, settings);
            var (sentence, pair) = text.Input(parse);
            using var explainer = Explainer.Load(parse.GetValue(text.Model)!, engine.Engine(parse), settings);
            var input = explainer.Encode(sentence, pair);
            var prediction = explainer.Engine.Predict([input])[0];
            var maps = methods.Select(m => explainer.Explain([input], m, [prediction])[0]).ToList();
            string label = explainer.LabelNames[prediction.Label];
            if (input.Truncated)
                Console.Error.WriteLine($"note: the input was truncated to {input.Length} word pieces (the model's maximum length).");
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(ExplanationJson.Create(explainer, input, prediction, maps), ExplanationJson.Options));
            else
            {
                Console.WriteLine($"prediction: {label} ({prediction.Probability:P1})");
                Console.Write(TerminalHeatmap.Render(maps, TerminalHeatmap.ColorSupported()));
                foreach (var ig in maps.Where(m => m.Diagnostics.ContainsKey("completeness_gap")))
                    Console.WriteLine($"ig completeness: attributions sum to {ig.Diagnostics["attribution_sum"]:G4}, loss difference {ig.Diagnostics["loss_delta"]:G4} (relative gap {ig.Diagnostics["completeness_gap"]:P1})");
            }
            if (parse.GetValue(html) is string page)
            {
                FacadeOnnx.AtomicFile.WriteAllText(page, HeatmapHtml.Page($"Saliency: {label} ({prediction.Probability:P1})",
                    $"{explainer.Engine.Model.Path} — {string.Join(" ", input.Tokens)}", maps));
                Console.Error.WriteLine($"wrote {page}");
            }
            return 0;
        }));
        return command;
    }
}
