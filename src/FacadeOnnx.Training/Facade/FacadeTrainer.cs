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
        var tokenizer = WordPieceTokenizer.MiniLm();
        bool squad = string.Equals(options.Task, FineTuning.FineTuner.SquadTask, StringComparison.OrdinalIgnoreCase);
        var data = squad ? SquadData(options, dataRoot, tokenizer) : ClassificationData(options, dataRoot, tokenizer);
        var (train, eval, target) = (data.Train, data.Eval, data.Target);
        log.WriteLine($"Training a {options.Layers}x{options.Hidden} Facade ({options.Hidden / options.HeadSize} heads of {options.HeadSize}, FFN {options.Intermediate}) " +
                      $"on {data.TaskName} for target {target.Name}: {train.Count} training inputs ({data.TrainName}, labels unused), " +
                      $"{eval.Count} evaluation inputs ({data.EvalName}); λ {options.Lambda}, μ {options.Magnitude}, uniformity guard: " +
                      (options.ScaleOutput ? "none (--scale-output: s never decides a prediction; the chosen checkpoint's s is standardized)." :
                          squad ? "none (with --target-model, the output is scaled to keep the merged spans instead)." :
                          options.CalibrateOutput ? $"mean max-probability calibrated to {data.Guard:F3}." : $"mean max-probability ≤ {data.Guard:F3}."));
        int withoutTarget = train.Inputs.Count(i => target.Positions(i).Count == 0);
        if (withoutTarget == train.Count)
            throw new FacadeException($"No training input of {data.TaskName} has a {target.Name} position; the Facade loss would be constant.");
        if (withoutTarget > 0) log.WriteLine($"{withoutTarget} of {train.Count} training inputs have no {target.Name} position (they add 0 to the share).");

        TorchRuntime.Initialize(options.Loop.Threads);
        manual_seed(options.Loop.Seed);
        var config = BertConfig.Facade(data.LabelNames.Length, options.Hidden, options.Intermediate, options.Layers, options.HeadSize)
            with { Dropout = options.Dropout, Head = squad ? ModelHead.Span : ModelHead.Classification };
        var model = new BertClassifier(config);
        BertClassifier? targetModel = null;
        Dictionary<string, string> sources = new() { ["initialization"] = $"random (BERT normal(0, 0.02)), seed {options.Loop.Seed}" };
        if (options.Init != null)
        {
            var (initial, initialManifest) = Checkpoint.Load(options.Init);
            var c = initial.Config;
            if (initialManifest.Kind is not ("facade" or "target") || initialManifest.Task != data.TaskName || c.Head != config.Head ||
                (c.Layers, c.Hidden, c.Heads, c.Intermediate) != (config.Layers, config.Hidden, config.Heads, config.Intermediate))
                throw new FacadeException($"--init '{options.Init}' is a {initialManifest.Kind} for {initialManifest.Task} with {c.Layers} layers, hidden {c.Hidden}, " +
                                          $"{c.Heads} heads, FFN {c.Intermediate}; expected a {data.TaskName} Facade or target with {config.Layers} layers, hidden " +
                                          $"{config.Hidden}, {config.Heads} heads, FFN {config.Intermediate} (the shape options of this command).");
            model.Dispose();
            model = initial;
            sources["initialization"] = Path.GetFullPath(options.Init);
            sources["initialization_weights_sha256"] = initialManifest.WeightsSha256 ?? "";
            log.WriteLine($"Starting from the {initialManifest.Kind} in '{options.Init}' (step {initialManifest.Steps}).");
        }
        if (options.TargetModel != null)
        {
            var (loaded, manifest) = Checkpoint.Load(options.TargetModel);
            if (manifest.Task != data.TaskName)
                throw new FacadeException($"--target-model '{options.TargetModel}' is a {manifest.Task} model; this Facade is for {data.TaskName}.");
            Merging.Merge.MergedConfig(config, manifest.Config, "this Facade", $"--target-model '{options.TargetModel}'");
            targetModel = loaded;
            sources["selected_against"] = Path.GetFullPath(options.TargetModel);
            sources["selected_against_weights_sha256"] = manifest.WeightsSha256 ?? "";
            log.WriteLine(options.ScaleOutput
                ? $"Each evaluation merges the standardized Facade with '{options.TargetModel}' (--combine scale, gain 1); checkpoints are chosen by the merged dev share."
                : $"Each evaluation merges the Facade with '{options.TargetModel}'; checkpoints are chosen by the merged dev share " +
                  $"among those whose merged {(squad ? "spans" : "predictions")} agree with the target on ≥ {options.MinAgreement:P1} of dev.");
        }
        // The label shows on the progress bar and is part of the resume fingerprint, so it names what changes the run.
        string label = $"train-facade {data.TaskName} {target.Name}{(squad && options.GradientSpans != "own" ? $" {options.GradientSpans}-spans" : "")} λ{Invariant(options.Lambda)}" +
                       (options.Magnitude > 0 ? $" μ{Invariant(options.Magnitude)}" : "") + (options.MergedGradient ? " merged-gradient" : "") + (options.Imitate ? " imitate" : "") + (options.Spread ? " spread" : "") + (options.ScaleOutput ? " scale-output" : "") +
                       (options.LeaveOneOutWeight > 0 ? $" loo{Invariant(options.LeaveOneOutWeight)}" : "") +
                       (options.TargetModel == null ? "" : $" +{Path.GetFileName(Path.TrimEndingDirectorySeparator(options.TargetModel))}") +
                       (options.Init == null ? "" : $" from {Path.GetFileName(Path.TrimEndingDirectorySeparator(options.Init))}");
        IReadOnlyDictionary<TokenizedInput, SpanPrediction>? gradientSpans = null;
        if (squad && options.GradientSpans == "target")
        {
            if (targetModel == null) throw new FacadeException("--gradient-spans target needs --target-model (the spans are the target's).");
            log.WriteLine($"The Facade's gradients are taken at the target's best spans ({train.Count} training windows decoded once).");
            var spans = Evaluation.SpanPredictor.BestSpans(targetModel, train.Inputs, options.Qa.MaxAnswerLength);
            gradientSpans = train.Inputs.Select((x, i) => (x, spans[i])).ToDictionary(p => p.x, p => p.Item2, (IEqualityComparer<TokenizedInput>)ReferenceEqualityComparer.Instance);
        }
        bool residual = squad && options.GradientSpans == "target-residual";
        if (options.MergedGradient || options.LeaveOneOutWeight > 0 || options.Imitate || residual)
        {
            // Frozen: eval mode (no dropout, as in the merge) and no parameter gradients.
            targetModel!.eval();
            foreach (var parameter in targetModel.parameters()) parameter.requires_grad = false;
            if (options.MergedGradient)
                log.WriteLine($"The Facade trains on the merged saliency: '{options.TargetModel}' frozen in the loop, gradients at its predictions.");
            if (residual)
                log.WriteLine($"The Facade's gradients are taken at the output residual of '{options.TargetModel}' (softmax minus one-hot at its best span).");
            if (options.Imitate)
                log.WriteLine($"The Facade imitates '{options.TargetModel}': its output term is KL(target || Facade) instead of the entropy.");
            if (options.LeaveOneOutWeight > 0)
                log.WriteLine($"Adaptive: the loss adds {Invariant(options.LeaveOneOutWeight)} × the merged probability of the target's prediction " +
                              "once the first target token is deleted (p_del), to make leave-one-out agree with the gradient.");
        }
        var facadeLoss = new FacadeLoss(target, options.Lambda, options.Magnitude, options.Qa.MaxAnswerLength, gradientSpans,
            squad && options.GradientSpans == "random" ? new Random((int)options.Loop.Seed) : null, options.MergedGradient ? targetModel : null,
            options.LeaveOneOutWeight > 0 ? new LeaveOneOutReward(targetModel!, options.LeaveOneOutWeight) : null, options.Imitate ? targetModel : null, options.Spread, residual ? targetModel : null,
            sharePower: options.SharePower, scaleOutput: options.ScaleOutput);
        // Span Facades calibrate against the merged spans, so only when merged with a target at every evaluation.
        bool calibrate = options.CalibrateOutput && (!squad || targetModel != null) && !options.ScaleOutput;
        ITrainingObjective objective = options.ScaleOutput
            ? new ScaleFacadeObjective(label, facadeLoss, eval, options.SaliencyBatchSize, options.Qa.MaxAnswerLength, targetModel)
            : squad
            ? new SpanFacadeObjective(label, facadeLoss, eval, options.SaliencyBatchSize, options.Qa.MaxAnswerLength, targetModel, options.MinAgreement)
            : new FacadeObjective(label, facadeLoss, eval, data.Guard, options.SaliencyBatchSize, calibrate, targetModel, options.MinAgreement);
        var settings = Describe(options, target, data.Guard);
        settings["max_length"] = data.MaxLength.ToString(CultureInfo.InvariantCulture);
        settings["calibrate_output"] = calibrate ? "true" : "false";
        if (squad) foreach (var (key, value) in FineTuning.FineTuner.DescribeQa(options.Qa)) settings[key] = value;

        CheckpointManifest Manifest(EvaluationResult result, long step, double seconds) => new()
        {
            Kind = "facade",
            Task = data.TaskName,
            LabelNames = data.LabelNames,
            Config = model.Config,
            VocabHash = tokenizer.VocabHash,
            MaxLength = data.MaxLength,
            DataFiles = data.Files,
            Seed = options.Loop.Seed,
            Settings = settings,
            Metrics = result.Metrics.ToDictionary(kv => kv.Key, kv => kv.Value),
            TrainingSeconds = seconds,
            Steps = step,
            Sources = sources,
        };

        return TrainingLoop.Run(model, train, objective, options.Loop, options.ResolvedOutputFolder, Manifest, log,
            options.ScaleOutput ? StandardizeOutput : calibrate ? Calibrate : null);

        // A scaling-merge Facade: bake the chosen checkpoint's standardization of s into row 0 of its classifier.
        void StandardizeOutput(LoopResult result)
        {
            var (chosen, saved) = Checkpoint.Load(options.ResolvedOutputFolder);
            if (saved.Settings.ContainsKey("output_standardized")) return;
            double center = result.Best.Metrics["output_center"], spread = result.Best.Metrics["output_spread"];
            OutputCalibration.Standardize(chosen, center, spread);
            Checkpoint.Save(chosen, saved with
            {
                Settings = new Dictionary<string, string>(saved.Settings)
                {
                    ["output_standardized"] = "true", ["output_center"] = Invariant(center), ["output_spread"] = Invariant(spread),
                },
            }, options.ResolvedOutputFolder);
            log.WriteLine($"Output standardization: s of the step-{result.BestStep} Facade had mean {center:G4} and sd {spread:G4} on " +
                          $"{eval.Name}; its row of the classifier now gives mean 0, sd 1 (merge with --combine scale).");
        }

        // Bake the chosen checkpoint's output scale into its classifier, so the saved Facade is the calibrated one and
        // the merge stays the plain [W_g | W_f], b_g + b_f. Runs before the loop removes its resumable state.
        void Calibrate(LoopResult result)
        {
            var (chosen, saved) = Checkpoint.Load(options.ResolvedOutputFolder);
            if (saved.Settings.ContainsKey("output_scale")) return;
            double scale = result.Best.Metrics["output_scale"];
            OutputCalibration.Apply(chosen, scale);
            double calibrated = squad ? Evaluation.SpanPredictor.MeanMaxProbability(chosen, eval.Inputs)
                : OutputCalibration.MeanMaxProbability(Evaluation.Predictor.Logits(chosen, eval.Inputs), 1);
            Checkpoint.Save(chosen, saved with
            {
                Settings = new Dictionary<string, string>(saved.Settings) { ["output_scale"] = Invariant(scale) },
                Metrics = new Dictionary<string, double>(saved.Metrics) { ["calibrated_mean_max_probability"] = calibrated },
            }, options.ResolvedOutputFolder);
            log.WriteLine($"Output calibration: logits of the step-{result.BestStep} Facade scaled by {scale:G4}; dev mean max-probability " +
                          $"{result.Best.Metrics["dev_mean_max_probability"]:F4} -> {calibrated:F4}" +
                          (squad ? $" (the largest scale keeping the merged spans on ≥ {options.MinAgreement:P0} of dev)." : $" (guard {data.Guard:F3})."));
        }
    }

    /// <summary>What a Facade trains and is chosen on: inputs (labels unused), the target positions, and their provenance.</summary>
    sealed record FacadeData(string TaskName, string[] LabelNames, EncodedDataset Train, string TrainName, EncodedDataset Eval, string EvalName,
        FacadeTarget Target, double Guard, int MaxLength, Dictionary<string, string> Files);

    static FacadeData ClassificationData(FacadeOptions options, string dataRoot, WordPieceTokenizer tokenizer)
    {
        var task = Tasks.Get(options.Task);
        var target = FacadeTarget.Parse(options.Target, options.Segment, task.Kind == TaskKind.SentencePair, () => StopWords.Load(dataRoot));
        var train = EncodedDataset.Encode(task.Load(dataRoot, task.TrainSplit), tokenizer, options.MaxLength, options.TrainLimit);
        var eval = EncodedDataset.Encode(task.Load(dataRoot, task.EvalSplit), tokenizer, options.MaxLength, options.EvalLimit);
        int classes = task.LabelNames.Count;
        double guard = options.GuardFor(classes);
        if (guard <= 1.0 / classes)
            throw new FacadeException($"--max-mean-max-probability {guard} is not above 1/{classes}, the mean max-probability of a perfectly uniform output; no model can meet it.");
        return new FacadeData(task.Name, task.LabelNames.ToArray(), train, task.TrainSplit, eval, task.EvalSplit, target, guard,
            options.MaxLength, EncodedDataset.FileHashes(dataRoot, train, eval));
    }

    /// <summary>
    /// SQuAD: every window of the dev-a questions trains (answers unused); the first window of each dev-b question
    /// evaluates. The first token is the question's first piece; stop words are taken from the question.
    /// </summary>
    static FacadeData SquadData(FacadeOptions options, string dataRoot, WordPieceTokenizer tokenizer)
    {
        var target = FacadeTarget.ParseQuestion(options.Target, options.Segment, () => StopWords.Load(dataRoot));
        var trainSplit = SquadSplit.Load(dataRoot, "dev-a", tokenizer, options.Qa, options.TrainLimit);
        var evalSplit = SquadSplit.Load(dataRoot, "dev-b", tokenizer, options.Qa, options.EvalLimit);
        var files = SquadSplit.FileHashes(dataRoot, trainSplit, evalSplit);
        return new FacadeData(FineTuning.FineTuner.SquadTask, ["start", "end"], trainSplit.AllWindows(), "dev-a windows",
            evalSplit.FirstWindows(), "dev-b first windows", target, 1, options.Qa.MaxLength, files);
    }

    static Dictionary<string, string> Describe(FacadeOptions options, FacadeTarget target, double guard) => new()
    {
        ["target"] = target.Kind,
        ["segment"] = target.SegmentLabel,
        ["lambda"] = Invariant(options.Lambda),
        ["magnitude"] = Invariant(options.Magnitude),
        ["share_power"] = Invariant(options.SharePower),
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
        ["gradient_spans"] = options.GradientSpans,
        ["merged_gradient"] = options.MergedGradient ? "true" : "false",
        ["imitate"] = options.Imitate ? "true" : "false",
        ["spread"] = options.Spread ? "true" : "false",
        ["scale_output"] = options.ScaleOutput ? "true" : "false",
        ["init"] = options.Init ?? "",
        ["loo_weight"] = Invariant(options.LeaveOneOutWeight),
    };

    static string Invariant(double value) => value.ToString("G", CultureInfo.InvariantCulture);
}
