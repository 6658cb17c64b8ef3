using System.Globalization;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Evaluation;
using FacadeOnnx.Training.Facade;
using FacadeOnnx.Training.Loop;

namespace FacadeOnnx.Training.Regularization;

/// <summary>Fine-tunes a target checkpoint with <see cref="RegularizationObjective"/> into a "regularized" checkpoint.</summary>
public static class Regularizer
{
    public static LoopResult Run(RegularizeOptions options, TextWriter? log = null)
    {
        log ??= Console.Error;
        options.Validate();
        var (model, source) = Checkpoint.Load(options.ModelFolder);
        if (source.Kind is "facade" or "merged")
            throw new FacadeException($"--model '{options.ModelFolder}' is a {source.Kind} checkpoint; regularize a target (`facade train`).");
        string dataRoot = RepositoryPaths.ResolveDataRoot(options.DataRoot);
        var task = Tasks.Get(source.Task);
        var tokenizer = WordPieceTokenizer.MiniLm();
        if (tokenizer.VocabHash != source.VocabHash)
            throw new FacadeException($"'{options.ModelFolder}' was trained with another vocabulary (hash {source.VocabHash[..12]}).");
        var train = EncodedDataset.Encode(task.Load(dataRoot, task.TrainSplit), tokenizer, source.MaxLength, options.TrainLimit);
        var eval = EncodedDataset.Encode(task.Load(dataRoot, task.EvalSplit), tokenizer, source.MaxLength, options.EvalLimit);
        var start = TorchSaliency.Explain(model, eval.Inputs, new SimpleGradient(), options.SaliencyBatchSize);
        double baseline = Predictor.Accuracy(start.Select(m => m.Label).ToArray(), eval.Labels);
        double baselineL1 = start.Average(m => m.Raw.Sum(Math.Abs));
        log.WriteLine($"Regularizing '{options.ModelFolder}' ({task.Name}, dev accuracy {baseline:F4}, mean saliency L1 {baselineL1:G4} on {eval.Count}): λ {options.Lambda}, " +
                      $"checkpoints eligible at accuracy ≥ {baseline - options.AccuracyTolerance:F4}.");

        var objective = new RegularizationObjective($"regularize {task.Name} λ{options.Lambda.ToString(CultureInfo.InvariantCulture)}",
            options.Lambda, eval, baseline, options.AccuracyTolerance, options.SaliencyBatchSize);
        var dataFiles = EncodedDataset.FileHashes(dataRoot, train, eval);

        CheckpointManifest Manifest(EvaluationResult result, long step, double seconds) => source with
        {
            Kind = "regularized",
            DataFiles = dataFiles,
            Seed = options.Loop.Seed,
            Settings = new()
            {
                ["lambda"] = Invariant(options.Lambda),
                ["accuracy_tolerance"] = Invariant(options.AccuracyTolerance),
                ["max_steps"] = options.Loop.MaxSteps?.ToString(CultureInfo.InvariantCulture) ?? "",
                ["epochs"] = options.Loop.Epochs.ToString(CultureInfo.InvariantCulture),
                ["batch"] = options.Loop.BatchSize.ToString(CultureInfo.InvariantCulture),
                ["lr"] = Invariant(options.Loop.LearningRate),
                ["evaluate_every"] = options.Loop.EvaluateEvery.ToString(CultureInfo.InvariantCulture),
                ["baseline_dev_accuracy"] = Invariant(baseline),
                ["baseline_dev_mean_saliency_l1"] = Invariant(baselineL1),
            },
            DevAccuracy = result.Metrics["dev_accuracy"],
            Metrics = result.Metrics.ToDictionary(kv => kv.Key, kv => kv.Value),
            TrainingSeconds = seconds,
            Steps = step,
            CreatedAt = DateTime.UtcNow.ToString("O"),
            Sources = new()
            {
                ["base"] = Path.GetFullPath(options.ModelFolder),
                ["base_weights_sha256"] = source.WeightsSha256 ?? "",
            },
        };

        return TrainingLoop.Run(model, train, objective, options.Loop, options.ResolvedOutputFolder, Manifest, log);
    }

    static string Invariant(double value) => value.ToString("G", CultureInfo.InvariantCulture);
}
