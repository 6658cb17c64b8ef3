using System.CommandLine;
using FacadeOnnx.Training.Regularization;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade regularize`: fine-tune a target to shrink its own input gradients (METHOD.md section 6).</summary>
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
        var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => defaults.Loop.Epochs };
        var maxSteps = new Option<int?>("--max-steps")
        {
            Description = "Stop after this many optimizer steps (overrides --epochs).",
            DefaultValueFactory = _ => defaults.Loop.MaxSteps,
        };
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => defaults.Loop.BatchSize };
        var lr = new Option<double>("--lr") { Description = "AdamW learning rate (constant).", DefaultValueFactory = _ => defaults.Loop.LearningRate };
        var evalEvery = new Option<int>("--eval-every") { Description = "Evaluate every this many steps.", DefaultValueFactory = _ => defaults.Loop.EvaluateEvery };
        var trainLimit = new Option<int?>("--train-limit") { Description = "Train on only the first N training examples." };
        var evalLimit = new Option<int?>("--eval-limit") { Description = "Evaluate on only the first N evaluation examples." };
        var seed = CommonOptions.Seed(defaults.Loop.Seed);
        var threads = CommonOptions.Threads();
        var fresh = CommonOptions.Fresh();
        var command = new Command("regularize",
            "Fine-tune a target into a regularized predictive model (METHOD.md 6): cross-entropy on the gold labels plus lambda " +
            "times the mean over examples of sum_t |grad x input| (its own prediction, double backpropagation). Checkpoints are " +
            "chosen by the smallest dev saliency magnitude among those whose accuracy stays within the tolerance. Optional: merge " +
            "a Facade with the result instead of the plain target.\n\nExample: facade regularize --model models/sst2-target --out models/sst2-target-rp")
        {
            model, data, output, lambda, tolerance, epochs, maxSteps, batch, lr, evalEvery, trainLimit, evalLimit, seed, threads, fresh,
        };
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
                Loop = defaults.Loop with
                {
                    Epochs = parse.GetValue(epochs),
                    MaxSteps = parse.GetValue(maxSteps),
                    BatchSize = parse.GetValue(batch),
                    LearningRate = parse.GetValue(lr),
                    EvaluateEvery = parse.GetValue(evalEvery),
                    Seed = parse.GetValue(seed),
                    Threads = parse.GetValue(threads),
                    Fresh = parse.GetValue(fresh),
                },
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
