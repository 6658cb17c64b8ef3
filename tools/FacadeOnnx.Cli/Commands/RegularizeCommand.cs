using System.CommandLine;
using FacadeOnnx.Training.Regularization;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade regularize`: fine-tune a target to shrink its own input gradients (docs/method.md section 6).</summary>
public static class RegularizeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Target checkpoint folder to start from.", Required = true };
        var data = CommonOptions.Data();
        var output = new Option<string?>("--out") { Description = "Output checkpoint folder (default: <model>-rp)." };
        var defaults = new RegularizeOptions { ModelFolder = "" };
        var lambda = new Option<double>("--lambda")
        {
            Description = "Weight of the mean saliency L1 (sum over tokens of |grad x input|, per example).",
            DefaultValueFactory = _ => defaults.Lambda,
        };
        var tolerance = new Option<double>("--accuracy-tolerance")
        {
            Description = "Checkpoints are eligible while dev accuracy is at least the starting model's minus this.",
            DefaultValueFactory = _ => defaults.AccuracyTolerance,
        };
        var loop = new LoopBinder(defaults.Loop, "AdamW learning rate (constant).");
        var trainLimit = new Option<int?>("--train-limit") { Description = "Train on only the first N training examples." };
        var evalLimit = new Option<int?>("--eval-limit") { Description = "Evaluate on only the first N evaluation examples." };
        var command = new Command("regularize",
            "Fine-tune a target into a regularized predictive model (docs/method.md 6): cross-entropy on the gold labels plus lambda " +
            "times the mean over examples of sum_t |grad x input| (its own prediction, double backpropagation). Checkpoints are " +
            "chosen by the smallest dev saliency magnitude among those whose accuracy stays within the tolerance. Optional: merge " +
            "a Facade with the result instead of the plain target.\n\nExample: facade regularize --model models/sst2-target --out models/sst2-target-rp")
        {
            model, data, output, lambda, tolerance, trainLimit, evalLimit,
        };
        loop.AddTo(command);
        command.SetAction(parse => CliRunner.Run(() =>
        {
            var options = defaults with
            {
                ModelFolder = parse.GetValue(model)!,
                DataRoot = parse.GetValue(data),
                OutputFolder = parse.GetValue(output),
                Lambda = parse.GetValue(lambda),
                AccuracyTolerance = parse.GetValue(tolerance),
                TrainLimit = parse.GetValue(trainLimit),
                EvalLimit = parse.GetValue(evalLimit),
                Loop = loop.Bind(parse),
            };
            var result = Regularizer.Run(options);
            var m = result.Best.Metrics;
            Console.WriteLine($"Best regularized model: dev accuracy {m["dev_accuracy"]:F4}, mean saliency L1 {m["dev_mean_saliency_l1"]:G4} " +
                              $"at step {result.BestStep} of {result.Steps}; {result.Seconds / 60:F1} minutes; checkpoint in {Path.GetFullPath(options.ResolvedOutputFolder)}");
            return 0;
        }));
        return command;
    }
}
