using System.Globalization;
using FacadeOnnx.Graph;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Loop;
using FacadeOnnx.Training.Pretrained;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.FineTuning;

/// <summary>Fine-tunes the pretrained MiniLM encoder with a fresh classification head into a target model.</summary>
public static class FineTuner
{
    public static LoopResult Run(FineTuneOptions options, TextWriter? log = null)
    {
        log ??= Console.Error;
        string dataRoot = RepositoryPaths.ResolveDataRoot(options.DataRoot);
        var task = Tasks.Get(options.Task);
        var tokenizer = WordPieceTokenizer.MiniLm();
        var train = EncodedDataset.Encode(task.Load(dataRoot, task.TrainSplit), tokenizer, options.MaxLength, options.TrainLimit);
        var eval = EncodedDataset.Encode(task.Load(dataRoot, task.EvalSplit), tokenizer, options.MaxLength, options.EvalLimit);
        log.WriteLine($"Fine-tuning MiniLM on {task.Name}: {train.Count} training examples ({task.TrainSplit}), {eval.Count} evaluation examples ({task.EvalSplit}).");

        TorchRuntime.Initialize(options.Loop.Threads);
        manual_seed(options.Loop.Seed);
        var model = MiniLmImport.Create(OnnxFile.Parse(MiniLmPackage.ModelOnnxBytes(), MiniLmPackage.AssemblyPath), task.LabelNames.Count);
        var objective = new ClassificationObjective($"train {task.Name}", eval, options.EvalBatchSize);
        var dataFiles = EncodedDataset.FileHashes(dataRoot, train, eval);

        CheckpointManifest Manifest(EvaluationResult result, long step, double seconds) => new()
        {
            Kind = "target",
            Task = task.Name,
            LabelNames = task.LabelNames.ToArray(),
            Config = model.Config,
            VocabHash = tokenizer.VocabHash,
            MaxLength = options.MaxLength,
            DataFiles = dataFiles,
            Seed = options.Loop.Seed,
            Settings = Describe(options),
            DevAccuracy = result.Metrics["dev_accuracy"],
            Metrics = result.Metrics.ToDictionary(kv => kv.Key, kv => kv.Value),
            TrainingSeconds = seconds,
            Steps = step,
            Sources = new() { ["pretrained"] = $"{MiniLmPackage.PackageId} {MiniLmPackage.PackageVersion} (all-MiniLM-L6-v2)" },
        };

        return TrainingLoop.Run(model, train, objective, options.Loop, options.ResolvedOutputFolder, Manifest, log);
    }

    internal static Dictionary<string, string> Describe(FineTuneOptions options) => new()
    {
        ["epochs"] = options.Loop.Epochs.ToString(CultureInfo.InvariantCulture),
        ["max_steps"] = options.Loop.MaxSteps?.ToString(CultureInfo.InvariantCulture) ?? "",
        ["batch"] = options.Loop.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["lr"] = options.Loop.LearningRate.ToString("G", CultureInfo.InvariantCulture),
        ["warmup"] = options.Loop.WarmupFraction.ToString("G", CultureInfo.InvariantCulture),
        ["weight_decay"] = options.Loop.WeightDecay.ToString("G", CultureInfo.InvariantCulture),
        ["clip_norm"] = options.Loop.ClipNorm.ToString("G", CultureInfo.InvariantCulture),
        ["max_length"] = options.MaxLength.ToString(CultureInfo.InvariantCulture),
        ["train_limit"] = options.TrainLimit?.ToString(CultureInfo.InvariantCulture) ?? "",
        ["eval_limit"] = options.EvalLimit?.ToString(CultureInfo.InvariantCulture) ?? "",
    };
}
