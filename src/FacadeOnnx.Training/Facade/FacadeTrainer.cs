using System.Globalization;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Loop;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Facade;

/// <summary>Trains a Facade from random initialization with <see cref="FacadeLoss"/> (docs/method.md 5, 17).</summary>
public static class FacadeTrainer
{
    public static LoopResult Run(FacadeOptions options, TextWriter? log = null)
    {
        log ??= Console.Error;
        options.Validate();
        string dataRoot = RepositoryPaths.ResolveDataRoot(options.DataRoot);
        var task = Tasks.Get(options.Task);
        var target = FacadeTarget.Parse(options.Target, options.Segment, task.Kind == TaskKind.SentencePair, () => StopWords.Load(dataRoot));
        var tokenizer = WordPieceTokenizer.MiniLm();
        var train = EncodedDataset.Encode(task.Load(dataRoot, task.TrainSplit), tokenizer, options.MaxLength, options.TrainLimit);
        var eval = EncodedDataset.Encode(task.Load(dataRoot, task.EvalSplit), tokenizer, options.MaxLength, options.EvalLimit);
        int classes = task.LabelNames.Count;
        double guard = options.GuardFor(classes);
        if (guard <= 1.0 / classes)
            throw new FacadeException($"--max-mean-max-probability {guard} is not above 1/{classes}, the mean max-probability of a perfectly uniform output; no model can meet it.");
        log.WriteLine($"Training a {options.Layers}x{options.Hidden} Facade ({options.Hidden / options.HeadSize} heads of {options.HeadSize}, FFN {options.Intermediate}) " +
                      $"on {task.Name} for target {target.Name}: {train.Count} training inputs ({task.TrainSplit}, labels unused), " +
                      $"{eval.Count} evaluation inputs ({task.EvalSplit}); λ {options.Lambda}, μ {options.Magnitude}, uniformity guard: mean max-probability " +
                      (options.CalibrateOutput ? $"calibrated to {guard:F3}." : $"≤ {guard:F3}."));
        int withoutTarget = train.Inputs.Count(i => target.Positions(i).Count == 0);
        if (withoutTarget == train.Count)
            throw new FacadeException($"No training input of {task.Name} has a {target.Name} position; the Facade loss would be constant.");
        if (withoutTarget > 0) log.WriteLine($"{withoutTarget} of {train.Count} training inputs have no {target.Name} position (they add 0 to the share).");

        TorchRuntime.Initialize(options.Loop.Threads);
        manual_seed(options.Loop.Seed);
        var config = BertConfig.Facade(classes, options.Hidden, options.Intermediate, options.Layers, options.HeadSize) with { Dropout = options.Dropout };
        var model = new BertClassifier(config);
        BertClassifier? targetModel = null;
        Dictionary<string, string> sources = new() { ["initialization"] = $"random (BERT normal(0, 0.02)), seed {options.Loop.Seed}" };
        if (options.TargetModel != null)
        {
            var (loaded, manifest) = Checkpoint.Load(options.TargetModel);
            if (manifest.Task != task.Name)
                throw new FacadeException($"--target-model '{options.TargetModel}' is a {manifest.Task} model; this Facade is for {task.Name}.");
            Merging.Merge.MergedConfig(config, manifest.Config, "this Facade", $"--target-model '{options.TargetModel}'");
            targetModel = loaded;
            sources["selected_against"] = Path.GetFullPath(options.TargetModel);
            sources["selected_against_weights_sha256"] = manifest.WeightsSha256 ?? "";
            log.WriteLine($"Each evaluation merges the Facade with '{options.TargetModel}'; checkpoints are chosen by the merged dev share " +
                          $"among those whose merged predictions agree with the target on ≥ {options.MinAgreement:P1} of dev.");
        }
        // The label shows on the progress bar and is part of the resume fingerprint, so it names what changes the run.
        string label = $"train-facade {task.Name} {target.Name} λ{Invariant(options.Lambda)}" +
                       (options.Magnitude > 0 ? $" μ{Invariant(options.Magnitude)}" : "") +
                       (options.TargetModel == null ? "" : $" +{Path.GetFileName(Path.TrimEndingDirectorySeparator(options.TargetModel))}");
        var objective = new FacadeObjective(label, new FacadeLoss(target, options.Lambda, options.Magnitude), eval, guard, options.SaliencyBatchSize,
            options.CalibrateOutput, targetModel, options.MinAgreement);
        var dataFiles = EncodedDataset.FileHashes(dataRoot, train, eval);

        CheckpointManifest Manifest(EvaluationResult result, long step, double seconds) => new()
        {
            Kind = "facade",
            Task = task.Name,
            LabelNames = task.LabelNames.ToArray(),
            Config = model.Config,
            VocabHash = tokenizer.VocabHash,
            MaxLength = options.MaxLength,
            DataFiles = dataFiles,
            Seed = options.Loop.Seed,
            Settings = Describe(options, target, guard),
            Metrics = result.Metrics.ToDictionary(kv => kv.Key, kv => kv.Value),
            TrainingSeconds = seconds,
            Steps = step,
            Sources = sources,
        };

        return TrainingLoop.Run(model, train, objective, options.Loop, options.ResolvedOutputFolder, Manifest, log,
            options.CalibrateOutput ? Calibrate : null);

        // Bake the chosen checkpoint's output scale into its classifier, so the saved Facade is the calibrated one and
        // the merge stays the plain [W_g | W_f], b_g + b_f. Runs before the loop removes its resumable state.
        void Calibrate(LoopResult result)
        {
            var (chosen, saved) = Checkpoint.Load(options.ResolvedOutputFolder);
            if (saved.Settings.ContainsKey("output_scale")) return;
            double scale = result.Best.Metrics["output_scale"];
            OutputCalibration.Apply(chosen, scale);
            var logits = Evaluation.Predictor.Logits(chosen, eval.Inputs);
            double calibrated = OutputCalibration.MeanMaxProbability(logits, 1);
            Checkpoint.Save(chosen, saved with
            {
                Settings = new Dictionary<string, string>(saved.Settings) { ["output_scale"] = Invariant(scale) },
                Metrics = new Dictionary<string, double>(saved.Metrics) { ["calibrated_mean_max_probability"] = calibrated },
            }, options.ResolvedOutputFolder);
            log.WriteLine($"Output calibration: logits of the step-{result.BestStep} Facade scaled by {scale:G4}; dev mean max-probability " +
                          $"{result.Best.Metrics["dev_mean_max_probability"]:F4} -> {calibrated:F4} (guard {guard:F3}).");
        }
    }

    static Dictionary<string, string> Describe(FacadeOptions options, FacadeTarget target, double guard) => new()
    {
        ["target"] = target.Kind,
        ["segment"] = FacadeTarget.SegmentName(target.Segment),
        ["lambda"] = Invariant(options.Lambda),
        ["magnitude"] = Invariant(options.Magnitude),
        ["calibrate_output"] = options.CalibrateOutput ? "true" : "false",
        ["max_mean_max_probability"] = Invariant(guard),
        ["max_steps"] = options.Loop.MaxSteps?.ToString(CultureInfo.InvariantCulture) ?? "",
        ["epochs"] = options.Loop.Epochs.ToString(CultureInfo.InvariantCulture),
        ["batch"] = options.Loop.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["lr"] = Invariant(options.Loop.LearningRate),
        ["constant_lr"] = options.Loop.ConstantLearningRate ? "true" : "false",
        ["warmup"] = Invariant(options.Loop.WarmupFraction),
        ["weight_decay"] = Invariant(options.Loop.WeightDecay),
        ["clip_norm"] = Invariant(options.Loop.ClipNorm),
        ["evaluate_every"] = options.Loop.EvaluateEvery.ToString(CultureInfo.InvariantCulture),
        ["dropout"] = Invariant(options.Dropout),
        ["max_length"] = options.MaxLength.ToString(CultureInfo.InvariantCulture),
        ["train_limit"] = options.TrainLimit?.ToString(CultureInfo.InvariantCulture) ?? "",
        ["eval_limit"] = options.EvalLimit?.ToString(CultureInfo.InvariantCulture) ?? "",
        ["target_model"] = options.TargetModel ?? "",
        ["min_agreement"] = options.TargetModel == null ? "" : Invariant(options.MinAgreement),
    };

    static string Invariant(double value) => value.ToString("G", CultureInfo.InvariantCulture);
}
