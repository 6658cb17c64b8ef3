using System.CommandLine;
using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Runtime;
using FacadeOnnx.Text;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade audit`: the paper's metrics and a manipulation verdict over a dataset split or the user's own texts.</summary>
public static class AuditCommand
{
    public static Command Create()
    {
        var defaults = new AuditOptions();
        var model = new Option<string>("--model") { Description = "Gradient model (.onnx) to audit.", Required = true };
        var compare = new Option<string?>("--compare") { Description = "A second gradient model to compare with (e.g. the original target)." };
        var task = CommonOptions.Task(defaultTask: null,
            $"Default {AuditOptions.DefaultTask}; with --input the model's own task (give it to check the model's labels against the task's). " +
            "squad audits span models on dev-b questions: EM, F1, span agreement, question saliency (simple, smooth, ig, leave-one-out), " +
            "input reduction and HotFlip on the question, and the verdict.", squad: true);
        var data = CommonOptions.Data();
        var corpus = new CorpusArguments();
        var limit = new Option<int?>("--limit") { Description = "Audit only the first N sentences of the evaluation split (SST-2 dev: 872; SNLI eval: 1,000), or the first N records of --input." };
        var maxLength = CommonOptions.MaxLength();
        var target = new Option<string>("--target") { Description = "The target the headline metrics measure: first-token or stop-words (both are computed).", DefaultValueFactory = _ => defaults.Target }
            .AcceptOnlyFromAmong([.. AuditOptions.Targets]);
        var segment = new Option<Segment?>("--segment") { Description = "For pairs: where stop words count and attacks act: First (premise), Second (hypothesis, the default for pairs) or All." };
        var output = new Option<string>("--out") { Description = "Report folder (report.json, report.md, report.html).", DefaultValueFactory = _ => defaults.OutputFolder };
        var noAttacks = new Option<bool>("--no-attacks") { Description = "Skip input reduction and HotFlip (saliency and verdict only)." };
        var noFaithfulness = new Option<bool>("--no-faithfulness")
        {
            Description = "Skip the faithfulness measures (ERASER comprehensiveness and sufficiency, deletion curves). They need forward " +
                          "passes only, but many: about 31 per method and text on SST-2 dev (leave-one-out: 23.5), which about doubles an audit without attacks.",
        };
        var gate = AuditOutput.Gate();
        var engine = new EngineBinder(AuditOptions.DefaultSaliency);
        var sharding = new ShardBinder();
        var command = new Command("audit",
            "Audit a model's gradient explanations over a dataset split or your own texts (--input): simple gradient, SmoothGrad, " +
            "Integrated Gradients, leave-one-out, input reduction and HotFlip, with the paper's metrics (P@1, MRR and attribution on the " +
            "target; reduced lengths, IoU and stop words; HotFlip success and flips), accuracy (when the texts have labels) and agreement " +
            "between two models, and a manipulation verdict from signals that work on a bare ONNX file. Texts longer than the maximum " +
            "length are cut, and the reports say how many and by how much. Writes report.json, report.md and report.html; an " +
            "interrupted audit resumes from its last finished chunk (a changed input file starts afresh).\n\n" +
            "Examples:\n" +
            "  facade audit --model models/sst2-merged-first.onnx --compare models/sst2-target.onnx --task sst2 --limit 200 --out audits/sst2\n" +
            "  facade audit --model runs/sst2-quick/merged.onnx --input reviews.txt --out audits/reviews\n" +
            "  facade audit --model runs/sst2-quick/merged.onnx --compare runs/sst2-quick/target.onnx --input reviews.jsonl --out audits/reviews\n" +
            "  facade audit --model runs/sst2-quick/merged.onnx --input reviews.csv --text-column review --label-column sentiment --max-length 256 --out audits/reviews\n" +
            "  facade audit --model models/snli-target.onnx --input pairs.tsv --pair-column hypothesis --text-column premise --out audits/pairs\n\n" +
            CorpusArguments.FormatsHelp)
        { model, compare, task, data };
        corpus.AddTo(command);
        foreach (Option option in new Option[] { limit, maxLength, target, segment, output, noAttacks, noFaithfulness, gate }) command.Add(option);
        engine.AddTo(command);
        sharding.AddTo(command);
        command.Add(AuditMergeCommand.Create());
        command.SetAction(parse => CliRunner.Run(() =>
        {
            var options = defaults with
            {
                Task = parse.GetValue(task),
                DataRoot = parse.GetValue(data),
                Input = corpus.File(parse),
                Columns = corpus.Columns(parse),
                Limit = parse.GetValue(limit),
                Target = parse.GetValue(target)!,
                Segment = parse.GetValue(segment),
                OutputFolder = parse.GetValue(output)!,
                Attacks = !parse.GetValue(noAttacks),
                Faithfulness = !parse.GetValue(noFaithfulness),
                Engine = engine.Engine(parse) with { MaxLength = parse.GetValue(maxLength) },
                Saliency = engine.Saliency(parse),
            };
            if (options.Task == Training.FineTuning.FineTuner.SquadTask)
            {
                // Refused rather than ignored: a Slurm array would otherwise run the whole audit in every task.
                if (sharding.Shard(parse) is { } squadShard)
                    throw new FacadeException($"shard {squadShard.Index}/{squadShard.Count} (from --shard, --shard-count or the job array's environment): " +
                                              "SQuAD audits run on one machine for now; use --limit, or pass --shard off inside a job array.");
                return SquadAuditCommand.Run(options, parse.GetValue(model)!, parse.GetValue(compare), parse.GetValue(gate));
            }
            options = sharding.Apply(options, parse);
            if (sharding.Shard(parse) is { } shard) return ShardBinder.Run(options, shard, parse.GetValue(model)!, parse.GetValue(compare));
            var report = AuditRunner.Run(options, parse.GetValue(model)!, parse.GetValue(compare));
            return AuditOutput.Print(report, options.OutputFolder, parse.GetValue(gate));
        }));
        return command;
    }
}
