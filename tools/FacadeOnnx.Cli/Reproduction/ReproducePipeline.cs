using System.Diagnostics;
using System.Globalization;
using System.Text;
using FacadeOnnx.Graph;
using FacadeOnnx.Runtime;
using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Metrics;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Export;
using FacadeOnnx.Training.Facade;
using FacadeOnnx.Training.FineTuning;
using FacadeOnnx.Training.Loop;
using FacadeOnnx.Training.Merging;

namespace FacadeOnnx.Cli.Reproduction;

/// <summary>
/// The whole pipeline end to end: fine-tune (or reuse) the target, train the Facade, merge, export both with gradients,
/// audit the merged model against the target, and print one table beside the authors' logged numbers. Every step
/// writes its result into the output folder and is skipped when that result is already complete, so an interrupted
/// reproduction continues where it stopped (training and audits also resume within a step).
/// </summary>
public static class ReproducePipeline
{
    public const string Summary = "summary.md";

    public static string Run(ReproduceOptions options, TextWriter log)
    {
        if (options.Task == FineTuner.SquadTask) return SquadReproduction.Run(options, log);
        if (options.Combine != Training.Merging.MergeCombination.Add)
            throw new FacadeException($"--combine {options.Combine.ToString().ToLowerInvariant()} is built into the SQuAD reproduction only; " +
                                      $"for {options.Task}, train with `facade train-facade --scale-output` and merge with `facade merge --combine scale`.");
        var clock = Stopwatch.StartNew();
        string output = options.ResolvedOutputFolder;
        Directory.CreateDirectory(output);
        var task = Text.Tasks.Get(options.Task);
        string defaultTarget = Path.Combine("models", $"{task.Name}-target");
        string target = options.TargetModel ?? (Complete(defaultTarget) ? defaultTarget : Path.Combine(output, "target"));
        string facade = Path.Combine(output, "facade"), merged = Path.Combine(output, "merged");
        var loop = new LoopSettings { Threads = options.Threads };
        int steps = 5, step = 0;
        void Header(string text) => log.WriteLine($"\n[{++step}/{steps}] {text}  ({ProgressBar.FormatTime(clock.Elapsed)} so far)");

        Header(Complete(target) ? $"target: reusing {target}" : $"target: fine-tuning MiniLM on {task.Name} into {target}");
        if (!Complete(target))
        {
            var defaults = new FineTuneOptions();
            FineTuner.Run(defaults with
            {
                Task = task.Name, DataRoot = options.DataRoot, OutputFolder = target,
                // Quick: one epoch (SNLI: on 8,000 pairs) still gives a sensible target in a couple of minutes.
                TrainLimit = options.Quick && task.Name == "snli" ? 8000 : null,
                Loop = defaults.Loop with { Epochs = options.Quick ? 2 : defaults.Loop.Epochs, Threads = options.Threads },
            }, log);
        }

        RequireFacadeTarget(facade, options.ResolvedTarget);
        Header(Complete(facade) ? $"Facade: reusing {facade}" : $"Facade ({options.ResolvedTarget}{(options.ResolvedSegment is string s ? ", " + s : "")}): training into {facade}");
        if (!Complete(facade))
        {
            var defaults = new FacadeOptions();
            FacadeTrainer.Run(defaults with
            {
                Task = task.Name, Target = options.ResolvedTarget, Segment = options.ResolvedSegment, DataRoot = options.DataRoot,
                OutputFolder = facade, TargetModel = target,
                EvalLimit = options.Quick ? 200 : defaults.EvalLimit,
                Loop = defaults.Loop with
                {
                    MaxSteps = options.Quick ? Math.Min(800, defaults.Loop.MaxSteps ?? 800) : defaults.Loop.MaxSteps,
                    EvaluateEvery = options.Quick ? 100 : defaults.Loop.EvaluateEvery,
                    Threads = options.Threads,
                },
            }, log);
        }

        Header(Complete(merged) ? $"merge: reusing {merged}" : $"merge: {facade} + {target} -> {merged}");
        if (!Complete(merged))
        {
            var (model, manifest) = Merge.Checkpoints(facade, target);
            Checkpoint.Save(model, manifest, merged);
        }

        Header("export: gradient models (ONNX, opset 21)");
        var onnx = ExportGradientModels(output, [("target", target), ("merged", merged)], log);

        Header($"audit: merged vs target on {task.Name} {task.EvalSplit}{(options.ResolvedAuditLimit is int l ? $" (first {l})" : "")}");
        var report = AuditRunner.Run(new AuditOptions
        {
            Task = task.Name, DataRoot = options.DataRoot, Limit = options.ResolvedAuditLimit, Target = options.ResolvedTarget,
            OutputFolder = Path.Combine(output, "audit"), Engine = new EngineOptions { Threads = options.Threads, Log = log },
            // The reference settings (5 left-Riemann IG steps), so that the table compares with the authors' logs.
            Saliency = new SaliencySettings(),
        }, onnx["merged"], onnx["target"], log);

        string table = Render(options, report, clock.Elapsed);
        AtomicFile.WriteAllText(Path.Combine(output, Summary), table);
        return table;
    }

    /// <summary>A checkpoint folder whose training finished (an interrupted run keeps its .resume folder).</summary>
    /// <summary>
    /// Refuses to reuse a Facade trained for another target than this run asks for: the folder's name does not say which,
    /// and the run would otherwise report a first-token Facade's effect under a stop-word heading, or the reverse.
    /// </summary>
    internal static void RequireFacadeTarget(string facade, string target)
    {
        if (!Complete(facade)) return;
        string trained = Checkpoint.ReadManifest(facade).Settings.GetValueOrDefault("target", "");
        if (trained != target)
            throw new FacadeException($"'{facade}' holds a {trained} Facade, but this run asks for --target {target}; give this run its own --out, " +
                                      $"or delete '{facade}' and the merged model beside it.");
    }

    internal static bool Complete(string folder) => Checkpoint.Exists(folder) && !Directory.Exists(Path.Combine(folder, ResumeState.Folder));

    /// <summary>Each checkpoint's gradient model as OUTPUT/NAME.onnx, rewritten only when its weights changed.</summary>
    internal static Dictionary<string, string> ExportGradientModels(string output, IEnumerable<(string Name, string Folder)> checkpoints, TextWriter log)
    {
        var onnx = new Dictionary<string, string>();
        foreach (var (name, folder) in checkpoints)
        {
            string path = onnx[name] = Path.Combine(output, name + ".onnx");
            string manifestHash = Checkpoint.ReadManifest(folder).WeightsSha256 ?? "";
            if (File.Exists(path) && OnnxFile.Read(path).Get(FacadeOnnx.Graph.Contract.GradientModelContract.Keys.SourceWeightsSha256) == manifestHash)
            {
                log.WriteLine($"  {path}: up to date");
                continue;
            }
            var (model, manifest) = Checkpoint.Load(folder);
            OnnxFile.Write(BertOnnxExporter.Gradient(model, manifest, folder), path);
            log.WriteLine($"  wrote {path} ({new FileInfo(path).Length / 1e6:F0} MB)");
        }
        return onnx;
    }

    static string Render(ReproduceOptions options, AuditReport report, TimeSpan wall)
    {
        string F(double v) => double.IsNaN(v) ? "n/a" : v.ToString("F3", CultureInfo.InvariantCulture);
        var merged = report.Model;
        var target = report.Compare!;
        var metrics = AuditReport.Headline(merged, report.Target);
        var baseline = AuditReport.Headline(target, report.Target);
        bool paper = options.Task == "sst2" && report.Target == "first-token";
        string gradientFree = AnalysisAttribute.NameOf<LeaveOneOut>();
        var rows = new List<(string Name, double Merged, double Target, string Key)>();
        foreach (var (name, m) in metrics)
            rows.Add(($"{SaliencyMethods.Title(name)} P@1" + (name == gradientFree ? " (gradient-free)" : ""), m.HitRate1, baseline[name].HitRate1,
                $"{name} {PaperNumbers.HitRate}"));
        foreach (var (name, m) in metrics.Where(kv => kv.Key != gradientFree))
            rows.Add(($"{SaliencyMethods.Title(name)} mean attribution", m.MeanAttribution, baseline[name].MeanAttribution, $"{name} {PaperNumbers.Attribution}"));
        rows.Add(("accuracy", merged.Accuracy ?? double.NaN, target.Accuracy ?? double.NaN, PaperNumbers.Accuracy));
        if (merged.Reduction is { } mr && target.Reduction is { } tr)
        {
            rows.Add(("input reduction: mean length after", mr.MeanReducedLength, tr.MeanReducedLength, ""));
            rows.Add(("input reduction: stop-word share kept", mr.StopTokenShare, tr.StopTokenShare, ""));
        }
        if (merged.HotFlip is { } mh && target.HotFlip is { } th)
        {
            rows.Add(("HotFlip: average flips needed", mh.AverageFlipsNeeded, th.AverageFlipsNeeded, ""));
            rows.Add(("HotFlip: flipped positions that are stop words", mh.StopWordFlipShare, th.StopWordFlipShare, ""));
            rows.Add(("HotFlip: flipped positions that are the first token", mh.FirstTokenFlipShare, th.FirstTokenFlipShare, ""));
        }
        var text = new StringBuilder();
        text.AppendLine($"## {report.Task}: merged (target + {report.Target} Facade) vs target, {report.Split}, {merged.Sentences} sentences");
        text.AppendLine();
        text.AppendLine($"Command: `./facade reproduce --task {options.Task}{(options.Quick ? " --quick" : "")}`, wall time {ProgressBar.FormatTime(wall)} on {Environment.ProcessorCount} cores.");
        text.AppendLine();
        text.AppendLine(paper ? "| metric | merged (ours) | target (ours) | merged (authors' log) | original (authors' log) |\n|---|---|---|---|---|"
                              : "| metric | merged (ours) | target (ours) |\n|---|---|---|");
        foreach (var (name, m, t, key) in rows)
        {
            string extra = paper ? (PaperNumbers.Sst2FirstToken.TryGetValue(key, out var p) ? $" | {F(p.Merged)} | {F(p.Original)}" : " | | ") : "";
            text.AppendLine($"| {name} | {F(m)} | {F(t)}{extra} |");
        }
        if (report.Comparison is { } c)
            text.AppendLine($"| prediction agreement | {F(c.PredictionAgreement)} | |{(paper ? " | |" : "")}");
        text.AppendLine();
        text.AppendLine($"Verdict: merged **{merged.Verdict.Name}** ({string.Join("; ", merged.Verdict.Reasons)}); target **{target.Verdict.Name}**.");
        text.AppendLine();
        text.AppendLine($"Reports: {Path.Combine(options.ResolvedOutputFolder, "audit", "report.html")} (and report.md, report.json).");
        return text.ToString();
    }
}
