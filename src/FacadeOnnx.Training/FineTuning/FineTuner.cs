using System.Globalization;
using FacadeOnnx.Graph;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Loop;
using FacadeOnnx.Training.Model;
using FacadeOnnx.Training.Pretrained;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.FineTuning;

/// <summary>
/// Fine-tunes the pretrained MiniLM encoder with a fresh head into a target model: a classification head for SST-2 and
/// SNLI, a span head for SQuAD (trained on dev-a windows that hold the answer, chosen by F1 on dev-b).
/// </summary>
public static class FineTuner
{
    /// <summary>The task name that selects the span head.</summary>
    public const string SquadTask = "squad";

    public static LoopResult Run(FineTuneOptions options, TextWriter? log = null)
    {
        log ??= Console.Error;
        if (string.Equals(options.Task, SquadTask, StringComparison.OrdinalIgnoreCase)) return RunSquad(options, log);
        string dataRoot = RepositoryPaths.ResolveDataRoot(options.DataRoot);
        var task = Tasks.Get(options.Task);
        var tokenizer = WordPieceTokenizer.MiniLm();
        var train = EncodedDataset.Encode(task.Load(dataRoot, task.TrainSplit), tokenizer, options.MaxLength, options.TrainLimit);
        var eval = EncodedDataset.Encode(task.Load(dataRoot, task.EvalSplit), tokenizer, options.MaxLength, options.EvalLimit);
        log.WriteLine($"Fine-tuning MiniLM on {task.Name}: {train.Count} training examples ({task.TrainSplit}), {eval.Count} evaluation examples ({task.EvalSplit}).");

        TorchRuntime.Initialize(options.Loop.Threads);
        manual_seed(options.Loop.Seed);
        var model = Pretrained(task.LabelNames.Count, ModelHead.Classification);
        var objective = new ClassificationObjective($"train {task.Name}", eval, options.EvalBatchSize);
        var manifest = Manifest(options, task.Name, task.LabelNames.ToArray(), model, tokenizer, options.MaxLength,
            EncodedDataset.FileHashes(dataRoot, train, eval), Describe(options), r => r.Metrics["dev_accuracy"]);
        return TrainingLoop.Run(model, train, objective, options.Loop, options.ResolvedOutputFolder, manifest, log);
    }

    static LoopResult RunSquad(FineTuneOptions options, TextWriter log)
    {
        string dataRoot = RepositoryPaths.ResolveDataRoot(options.DataRoot);
        var tokenizer = WordPieceTokenizer.MiniLm();
        var qa = options.Qa;
        var trainSplit = SquadSplit.Load(dataRoot, "dev-a", tokenizer, qa, options.TrainLimit, training: true);
        var evalSplit = SquadSplit.Load(dataRoot, "dev-b", tokenizer, qa, options.EvalLimit);
        var train = trainSplit.TrainingSet();
        log.WriteLine($"Fine-tuning MiniLM for SQuAD: {trainSplit.Questions.Count} training questions (dev-a, {train.Count} windows with the answer), " +
                      $"{evalSplit.Questions.Count} evaluation questions (dev-b, {evalSplit.WindowCount} windows).");

        TorchRuntime.Initialize(options.Loop.Threads);
        manual_seed(options.Loop.Seed);
        var model = Pretrained(2, ModelHead.Span);
        var objective = new SpanObjective($"train {SquadTask}", evalSplit, qa, options.EvalBatchSize);
        var files = SquadSplit.FileHashes(dataRoot, trainSplit, evalSplit);
        var settings = Describe(options);
        settings["max_length"] = qa.MaxLength.ToString(CultureInfo.InvariantCulture);
        foreach (var (key, value) in DescribeQa(qa)) settings[key] = value;
        var manifest = Manifest(options, SquadTask, ["start", "end"], model, tokenizer, qa.MaxLength, files, settings, _ => null);
        return TrainingLoop.Run(model, train, objective, options.Loop, options.ResolvedOutputFolder, manifest, log);
    }

    /// <summary>MiniLM's pretrained encoder under a freshly initialized head.</summary>
    static BertClassifier Pretrained(int outputs, ModelHead head) =>
        MiniLmImport.Create(OnnxFile.Parse(MiniLmPackage.ModelOnnxBytes(), MiniLmPackage.AssemblyPath), outputs, head);

    static Func<EvaluationResult, long, double, CheckpointManifest> Manifest(FineTuneOptions options, string task, string[] labelNames,
        BertClassifier model, WordPieceTokenizer tokenizer, int maxLength, Dictionary<string, string> dataFiles, Dictionary<string, string> settings,
        Func<EvaluationResult, double?> devAccuracy) =>
        (result, step, seconds) => new CheckpointManifest
        {
            Kind = "target",
            Task = task,
            LabelNames = labelNames,
            Config = model.Config,
            VocabHash = tokenizer.VocabHash,
            MaxLength = maxLength,
            DataFiles = dataFiles,
            Seed = options.Loop.Seed,
            Settings = settings,
            DevAccuracy = devAccuracy(result),
            Metrics = result.Metrics.ToDictionary(kv => kv.Key, kv => kv.Value),
            TrainingSeconds = seconds,
            Steps = step,
            Sources = new() { ["pretrained"] = $"{MiniLmPackage.PackageId} {MiniLmPackage.PackageVersion} (all-MiniLM-L6-v2)" },
        };

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

    /// <summary>The QA settings as manifest settings, read back by <see cref="QaSettingsOf"/>.</summary>
    public static Dictionary<string, string> DescribeQa(QaSettings qa) => new()
    {
        ["qa_stride"] = qa.Stride.ToString(CultureInfo.InvariantCulture),
        ["qa_max_query_length"] = qa.MaxQueryLength.ToString(CultureInfo.InvariantCulture),
        ["qa_max_answer_length"] = qa.MaxAnswerLength.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The QA settings a SQuAD checkpoint was trained with (defaults where its manifest is silent).</summary>
    public static QaSettings QaSettingsOf(CheckpointManifest manifest)
    {
        int Read(string key, int fallback) =>
            manifest.Settings.TryGetValue(key, out var v) && int.TryParse(v, CultureInfo.InvariantCulture, out int n) ? n : fallback;
        var defaults = new QaSettings();
        return new QaSettings
        {
            MaxLength = manifest.MaxLength,
            Stride = Read("qa_stride", defaults.Stride),
            MaxQueryLength = Read("qa_max_query_length", defaults.MaxQueryLength),
            MaxAnswerLength = Read("qa_max_answer_length", defaults.MaxAnswerLength),
        };
    }
}
