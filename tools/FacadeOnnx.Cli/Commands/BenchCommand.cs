using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FacadeOnnx.Cli.Bench;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade bench`: the engine against TorchSharp eager (out of the box and with the MKL fix), and scaling.</summary>
public static class BenchCommand
{
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Command Create()
    {
        var models = new Option<string[]>("--models")
        {
            Description = "Checkpoint folders to benchmark (both sides use their weights).",
            DefaultValueFactory = _ => ["models/sst2-target", "models/sst2-merged-first"],
            AllowMultipleArgumentsPerToken = true,
        };
        var methods = new Option<string[]>("--methods") { Description = $"Methods: {string.Join(", ", BenchWorker.AllMethods)}.", DefaultValueFactory = _ => BenchWorker.AllMethods, AllowMultipleArgumentsPerToken = true };
        var limit = new Option<int>("--limit") { Description = "Dev sentences per method (SST-2 dev has 872).", DefaultValueFactory = _ => 872 };
        var repeats = new Option<int>("--repeats") { Description = "Interleaved repeats per method; medians and ranges are over these.", DefaultValueFactory = _ => 3 };
        var engine = new EngineBinder();
        var torch = new Option<string>("--torch")
        {
            Description = "TorchSharp configuration: default (out of the box), mkl-fix (AVX-512 MKL dispatch, see docs/design.md section 9), or both (one worker process each).",
            DefaultValueFactory = _ => "both",
        }.AcceptOnlyFromAmong("default", "mkl-fix", "both");
        var texts = new Option<BenchTexts>("--texts")
        {
            Description = $"What the methods run on: dev (the first --limit sentences of the model's evaluation split) or long (SQuAD dev-b " +
                          $"paragraphs of {LongTexts.Shortest} to {LongTexts.Longest} word pieces, read as single texts).",
            HelpName = "dev|long",
            DefaultValueFactory = _ => BenchTexts.Dev,
        };
        var imported = new Option<bool>("--imported")
        {
            Description = "Also time each model as `facade import` makes it from its forward export: the gradient graph a foreign classifier gets.",
        };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON." };
        var output = new Option<string>("--out") { Description = "Folder for bench.json (and the scaling table and plots).", DefaultValueFactory = _ => "bench" };
        var scaling = new Option<bool>("--scaling") { Description = "Measure how cost grows with length (16-256) and batch budget, with PNG plots, on the first model." };
        var igConvergence = new Option<bool>("--ig-convergence")
        {
            Description = "Integrated Gradients at fixed steps (5 to 64) against adaptive IG (--ig-tolerance, default 0.01), left Riemann and " +
                          "trapezoid, on the first model and --limit sentences: median completeness gap, gradients computed and time (engine only).",
        };
        var worker = new Option<string?>("--worker-json") { Hidden = true };
        var data = CommonOptions.Data();
        var command = new Command("bench",
            "Time every method through the ONNX Runtime engine and through a TorchSharp eager reference doing the same work " +
            "(same weights, threads and batch budget), interleaved in one process after checking both compute the same " +
            "numbers; report sentences per second, the speed-up (median and range), peak memory, and the gradient graph " +
            "against the forward graph and the machine's matrix-multiply rate.\n\n" +
            "Examples:\n  facade bench --methods simple smooth ig5 --limit 872\n  facade bench --texts long --limit 16 --methods simple ig5 --imported\n" +
            "  facade bench --ig-convergence --models models/sst2-target --limit 128\n  facade bench --scaling --models models/sst2-target --out docs")
        { models, methods, limit, repeats, texts, imported, torch, json, output, scaling, igConvergence, worker, data };
        engine.AddTo(command);
        command.SetAction(parse => CliRunner.Run(() =>
        {
            var engineOptions = engine.Engine(parse);
            var settings = new BenchSettings
            {
                Models = parse.GetValue(models)!, Methods = parse.GetValue(methods)!, Limit = parse.GetValue(limit),
                Repeats = parse.GetValue(repeats), DataRoot = parse.GetValue(data),
                Threads = engineOptions.Threads ?? Environment.ProcessorCount, BatchBudget = engineOptions.BatchBudget,
                Device = engineOptions.Device, Saliency = engine.Saliency(parse), MemoryBudget = engineOptions.MemoryBudget,
                Texts = parse.GetValue(texts), Imported = parse.GetValue(imported),
            };
            foreach (var m in settings.Models)
                if (!Directory.Exists(m)) throw new FacadeException($"Checkpoint folder '{m}' does not exist; train it first (see the README) or pass --models.");
            string folder = parse.GetValue(output)!;
            if (parse.GetValue(scaling))
            {
                Console.WriteLine(ScalingBench.Run(settings.Models[0], folder, settings.Threads, 16, Console.Error));
                return 0;
            }
            if (parse.GetValue(igConvergence))
            {
                var (markdown, rows) = IgConvergenceBench.Run(settings.Models[0], settings, settings.Saliency.IntegratedGradients.Tolerance ?? 0.01, Console.Error);
                Directory.CreateDirectory(folder);
                AtomicFile.WriteAllText(Path.Combine(folder, "ig-convergence.json"), JsonSerializer.Serialize(rows, Json));
                AtomicFile.WriteAllText(Path.Combine(folder, "ig-convergence.md"), markdown);
                Console.WriteLine(markdown);
                return 0;
            }
            if (parse.GetValue(worker) is string workerJson)
            {
                var report = BenchWorker.Run(settings, Console.Error);
                AtomicFile.WriteAllText(workerJson, JsonSerializer.Serialize(report, Json));
                return 0;
            }
            string[] configs = parse.GetValue(torch) == "both" ? ["default", "mkl-fix"] : [parse.GetValue(torch)!];
            var reports = configs.Select(config => RunWorker(config, parse, folder)).ToList();
            AtomicFile.WriteAllText(Path.Combine(folder, "bench.json"), JsonSerializer.Serialize(reports, Json));
            Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(reports, Json) : Render(reports));
            return 0;
        }));
        return command;
    }

    /// <summary>One worker process per TorchSharp configuration: the MKL fix must be loaded before libtorch, or never.</summary>
    static BenchReport RunWorker(string config, ParseResult parse, string folder)
    {
        Directory.CreateDirectory(folder);
        string file = Path.Combine(Path.GetFullPath(folder), $"bench-{config}.json");
        var args = parse.Tokens.Select(t => t.Value).Where(a => a != "bench").ToList();
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        start.ArgumentList.Add("bench");
        foreach (var a in args) start.ArgumentList.Add(a);
        start.ArgumentList.Add("--worker-json");
        start.ArgumentList.Add(file);
        start.Environment["FACADE_MKL_FIX"] = config == "mkl-fix" ? "1" : "0";
        // A fixed mmap threshold makes glibc return every large buffer to the system when it is freed, so one side's
        // freed memory does not stay resident and hide the other side's peak (both run in this worker).
        start.Environment["MALLOC_MMAP_THRESHOLD_"] = "131072";
        using var process = Process.Start(start)!;
        process.WaitForExit();
        if (process.ExitCode != 0) throw new FacadeException($"The {config} bench worker failed (exit code {process.ExitCode}); see its messages above.");
        return JsonSerializer.Deserialize<BenchReport>(File.ReadAllText(file), Json)!;
    }

    static string Render(List<BenchReport> reports)
    {
        string F(double v, string f = "F1") => v.ToString(f, CultureInfo.InvariantCulture);
        var text = new StringBuilder();
        text.AppendLine("| model | method | sentences | engine sent/s | TorchSharp config | TorchSharp sent/s | engine speed-up (median, range) | engine peak RSS growth MB | TorchSharp peak RSS growth MB |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var t in reports.SelectMany(r => r.Methods).OrderBy(t => t.Model).ThenBy(t => Array.IndexOf(BenchWorker.AllMethods, t.Method)).ThenBy(t => t.TorchConfig))
            text.AppendLine($"| {t.Model} | {t.Method} | {t.Sentences} | {F(t.EngineSentencesPerSecond)} | {t.TorchConfig} | {F(t.TorchSentencesPerSecond)} | " +
                            $"{F(t.SpeedupMedian, "F2")}x ({F(t.SpeedupMin, "F2")}-{F(t.SpeedupMax, "F2")}) | {F(t.EnginePeakMB, "F0")} | {F(t.TorchPeakMB, "F0")} |");
        text.AppendLine();
        text.AppendLine("Graphs at 32 sentences x 32 word pieces; pruned = the default export (last layer on the [CLS] row), unpruned = `facade export --no-prune-last-layer`.");
        text.AppendLine();
        text.AppendLine("| model | TorchSharp config | unpruned forward ms | unpruned gradient ms | pruned forward ms | pruned gradient ms | **pruned gradient / unpruned forward** | " +
                        "pruned gradient / pruned forward | unpruned gradient / forward | GFLOP/s (pruned gradient) | share of matmul rate | TorchSharp forward ms | TorchSharp gradient ms |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in reports)
            foreach (var g in r.Graphs)
                text.AppendLine($"| {g.Model} | {r.TorchConfig} | {F(g.UnprunedForwardMs)} | {F(g.UnprunedGradientMs)} | {F(g.ForwardMs)} | {F(g.GradientMs)} | " +
                                $"**{F(g.GradientOverUnprunedForward, "F2")}** | {F(g.GradientOverForward, "F2")} | {F(g.UnprunedGradientOverForward, "F2")} | {F(g.AchievedGflops, "F0")} | " +
                                $"{F(g.ShareOfMatMulRate * 100, "F0")}% of {F(g.MatMulGflops, "F0")} | {F(g.TorchForwardMs)} | {F(g.TorchGradientMs)} |");
        return text.ToString();
    }
}
