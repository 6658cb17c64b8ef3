using System.CommandLine;
using FacadeOnnx.Cli.Reproduction;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade reproduce`: the whole Facade pipeline end to end, with one final table.</summary>
public static class ReproduceCommand
{
    public static Command Create()
    {
        var task = CommonOptions.Task(squad: true);
        var quick = new Option<bool>("--quick")
        {
            Description = "A small budget for a 2-core machine (about 13 minutes for sst2 from scratch, measured on 2 AMD EPYC cores): two target epochs if no target exists, " +
                          "800 Facade steps, audit of the first 100 dev sentences. Still shows the effect. SQuAD: one target epoch on the " +
                          "first 3,000 dev-a questions, 200 Facade steps on the windows of 1,500 questions, audit of the first 100 dev-b " +
                          "questions without the attacks.",
        };
        var output = new Option<string?>("--out") { Description = "Output folder (default: runs/<task> or runs/<task>-quick)." };
        var target = new Option<string?>("--target") { Description = "Facade target: first-token (sst2 and squad default; squad: the question's first piece) or stop-words (snli default, in the hypothesis; squad: of the question)." };
        target.AcceptOnlyFromAmong("first-token", "stop-words");
        var targetModel = new Option<string?>("--target-model") { Description = "Target checkpoint to reuse (default: models/<task>-target if it exists, else one is trained)." };
        var auditLimit = new Option<int?>("--audit-limit") { Description = "Audit only the first N evaluation sentences (default: all; 100 with --quick; squad: 1,000 questions, 100 with --quick)." };
        var combine = new Option<Training.Merging.MergeCombination>("--combine")
        {
            Description = "SQuAD: add (the paper's merge, default) or scale (a --scale-output Facade whose exp multiplies the target's " +
                          "logits, so every window's best span is the target's by construction; docs/method.md 7.7). The scaling run writes facade-scale, " +
                          "merged-scale, merged-scale.onnx, audit-scale and summary-scale.md beside the additive run's, sharing its target.",
            DefaultValueFactory = _ => Training.Merging.MergeCombination.Add,
        };
        var data = CommonOptions.Data();
        var threads = CommonOptions.Threads();
        var command = new Command("reproduce",
            "Reproduce the Facade attack end to end: fine-tune (or reuse) the target, train the Facade, merge, export both " +
            "models with gradient graphs, audit the merged model against the target, and print the paper's metrics beside the " +
            "authors' logged numbers. Every step is skipped when its result exists, so an interrupted run continues.\n\n" +
            "Example: ./facade reproduce --task sst2 --quick")
        { task, quick, output, target, targetModel, auditLimit, combine, data, threads };
        command.SetAction(parse => CliRunner.Run(() =>
        {
            string table = ReproducePipeline.Run(new ReproduceOptions
            {
                Task = parse.GetValue(task)!, Quick = parse.GetValue(quick), OutputFolder = parse.GetValue(output),
                Target = parse.GetValue(target), TargetModel = parse.GetValue(targetModel), AuditLimit = parse.GetValue(auditLimit),
                DataRoot = parse.GetValue(data), Threads = parse.GetValue(threads), Combine = parse.GetValue(combine),
            }, Console.Error);
            Console.WriteLine();
            Console.WriteLine(table);
            return 0;
        }));
        return command;
    }
}
