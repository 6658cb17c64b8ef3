using System.CommandLine;
using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Text;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade audit`: the paper's metrics and a manipulation verdict over a dataset split.</summary>
public static class AuditCommand
{
    public static Command Create()
    {
        var defaults = new AuditOptions();
        var model = new Option<string>("--model") { Description = "Gradient model (.onnx) to audit.", Required = true };
        var compare = new Option<string?>("--compare") { Description = "A second gradient model to compare with (e.g. the original target)." };
        var task = CommonOptions.Task();
        var data = CommonOptions.Data();
        var limit = new Option<int?>("--limit") { Description = "Audit only the first N sentences of the evaluation split (SST-2 dev: 872; SNLI eval: 1,000)." };
        var target = new Option<string>("--target") { Description = "The target the headline metrics measure: first-token or stop-words (both are computed).", DefaultValueFactory = _ => defaults.Target }
            .AcceptOnlyFromAmong([.. AuditOptions.Targets]);
        var segment = new Option<Segment?>("--segment") { Description = "For pairs: where stop words count and attacks act: First (premise), Second (hypothesis, the default for snli) or All." };
        var output = new Option<string>("--out") { Description = "Report folder (report.json, report.md, report.html).", DefaultValueFactory = _ => defaults.OutputFolder };
        var noAttacks = new Option<bool>("--no-attacks") { Description = "Skip input reduction and HotFlip (saliency and verdict only)." };
        var gate = new Option<bool>("--gate") { Description = "Exit with code 3 when the verdict says a model's explanations cannot be trusted (for CI/CD gates)." };
        var device = new Option<ExecutionDevice>("--device") { Description = "cpu or cuda (default: cpu).", HelpName = "cpu|cuda" };
        var threads = CommonOptions.Threads();
        var command = new Command("audit",
            "Audit a model's gradient explanations over a dataset split: simple gradient, SmoothGrad, Integrated Gradients, " +
            "leave-one-out, input reduction and HotFlip, with the paper's metrics (P@1, MRR and attribution on the target; reduced " +
            "lengths, IoU and stop words; HotFlip success and flips), accuracy and agreement between two models, and a " +
            "manipulation verdict from signals that work on a bare ONNX file. Writes report.json, report.md and report.html; an " +
            "interrupted audit resumes from its last finished chunk.\n\n" +
            "Example: facade audit --model models/sst2-merged-first.onnx --compare models/sst2-target.onnx --task sst2 --limit 200 --out audits/sst2")
        { model, compare, task, data, limit, target, segment, output, noAttacks, gate, device, threads };
        command.SetAction(parse => CliRunner.Run(() =>
        {
            var options = defaults with
            {
                Task = parse.GetValue(task)!,
                DataRoot = parse.GetValue(data),
                Limit = parse.GetValue(limit),
                Target = parse.GetValue(target)!,
                Segment = parse.GetValue(segment),
                OutputFolder = parse.GetValue(output)!,
                Attacks = !parse.GetValue(noAttacks),
                Engine = new EngineOptions { Device = parse.GetValue(device), Threads = parse.GetValue(threads) },
            };
            var report = AuditRunner.Run(options, parse.GetValue(model)!, parse.GetValue(compare));
            foreach (var m in new[] { report.Model, report.Compare }.Where(m => m != null))
            {
                var headline = FacadeOnnx.Runtime.Audit.AuditReport.Headline(m!, options.Target);
                Console.WriteLine($"{m!.Role}: {Path.GetFileName(m.Path)}  accuracy {m.Accuracy:F3}  P@1 ({options.Target}) simple {headline["simple"].HitRate1:F3} " +
                                  $"smooth {headline["smooth"].HitRate1:F3} ig {headline["ig"].HitRate1:F3}  verdict: {m.Verdict.Verdict}");
                foreach (var reason in m.Verdict.Reasons) Console.WriteLine($"    {reason}");
            }
            Console.WriteLine($"Reports: {Path.GetFullPath(Path.Combine(options.OutputFolder, "report.html"))} (and report.md, report.json)");
            bool untrusted = report.Model.Verdict.Untrusted;
            return parse.GetValue(gate) && untrusted ? 3 : 0;
        }));
        return command;
    }
}
