using System.Globalization;
using FacadeOnnx.Runtime.Metrics;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Evaluation;
using FacadeOnnx.Training.Facade;
using FacadeOnnx.Training.Loop;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Merging;

/// <summary>Settings of <see cref="MergeTuning"/> (`facade tune-merge`).</summary>
public sealed record MergeTuningOptions
{
    /// <summary>The merged (or disguised) checkpoint to start from.</summary>
    public required string Model { get; init; }
    public required string OutputFolder { get; init; }
    public string? DataRoot { get; init; }
    /// <summary>first-token or stop-words: the Facade's target, which the saliency term keeps.</summary>
    public string Target { get; init; } = FacadeTarget.FirstTokenKind;
    public string? Segment { get; init; }
    /// <summary>α: the weight of the saliency term (minus the attribution share on the target, docs/method.md §5.2).</summary>
    public double SaliencyWeight { get; init; } = 1;
    /// <summary>Classifiers: a checkpoint is eligible while its dev accuracy is at most this far below the starting model's.</summary>
    public double MaxAccuracyDrop { get; init; } = 0.01;
    /// <summary>Span models: the checkpoint whose best spans are the task labels and the agreement's reference (null: the
    /// starting model; give a merge's target to keep the target's spans rather than the merge's).</summary>
    public string? Reference { get; init; }
    /// <summary>Span models: the task term, <see cref="KlSpanTerm"/> (the reference's start/end distributions),
    /// <see cref="BestSpanTerm"/> (the cross-entropy at its best span) or <see cref="MarginSpanTerm"/> (the hinge on the
    /// margin by which its best span wins).</summary>
    public string SpanTerm { get; init; } = MergeTuning.KlSpanTerm;
    /// <summary>Span models with <see cref="MergeTuning.MarginSpanTerm"/>: the margin, in logits of start + end, by which the
    /// reference's best span must win before its row stops training.</summary>
    public double SpanMargin { get; init; } = 1;
    /// <summary>Span models: a checkpoint is eligible while at least this share of its dev best spans are the reference's.</summary>
    public double MinSpanAgreement { get; init; } = 0.98;
    /// <summary>The dropout while tuning; null: the checkpoint's for classifiers, 0 for span models (which keep the start's
    /// deterministic predictions).</summary>
    public double? Dropout { get; init; }
    /// <summary>Span models: windows per saliency batch in each evaluation.</summary>
    public int SaliencyBatchSize { get; init; } = 8;
    public int? TrainLimit { get; init; }
    /// <summary>Dev inputs for each evaluation (accuracy, agreement, share).</summary>
    public int? EvalLimit { get; init; } = 200;
    public LoopSettings Loop { get; init; } = new()
    {
        MaxSteps = 300, BatchSize = 32, LearningRate = 2e-5, WarmupFraction = 0, ConstantLearningRate = true, EvaluateEvery = 100, Seed = 13,
    };

    public void Validate()
    {
        if (!double.IsFinite(SaliencyWeight) || SaliencyWeight < 0) throw new FacadeException($"--saliency-weight {SaliencyWeight} must be a finite number ≥ 0.");
        if (MaxAccuracyDrop is < 0 or > 1) throw new FacadeException($"--max-accuracy-drop {MaxAccuracyDrop} must be in [0, 1].");
        if (MinSpanAgreement is < 0 or > 1) throw new FacadeException($"--min-agreement {MinSpanAgreement} must be in [0, 1].");
        if (Dropout is < 0 or >= 1) throw new FacadeException($"--dropout {Dropout} must be in [0, 1).");
        if (SpanTerm is not (MergeTuning.KlSpanTerm or MergeTuning.BestSpanTerm or MergeTuning.MarginSpanTerm))
            throw new FacadeException($"--span-term '{SpanTerm}' is not a span term; expected {MergeTuning.KlSpanTerm}, {MergeTuning.BestSpanTerm} or {MergeTuning.MarginSpanTerm}.");
        if (!double.IsFinite(SpanMargin) || SpanMargin <= 0) throw new FacadeException($"--span-margin {SpanMargin} must be a finite number > 0.");
        if (SaliencyBatchSize < 1) throw new FacadeException($"The saliency batch size {SaliencyBatchSize} must be at least 1.");
        if (TrainLimit is < 1) throw new FacadeException($"--train-limit {TrainLimit} must be at least 1.");
        if (EvalLimit is < 1) throw new FacadeException($"--eval-limit {EvalLimit} must be at least 1.");
        Loop.Validate();
    }
}

/// <summary>
/// The fine-tuned disguise of issue 14 (docs/method.md §7.6): a merged model trained further with every weight
/// free on the task loss plus the Facade's saliency term, CE(z, y) + α · (−share on the target), so that no weight
/// stays exactly zero and the blocks blur while predictions and the manipulation are kept. Checkpoints are chosen by
/// the dev target share among those whose dev accuracy stays within <see cref="MergeTuningOptions.MaxAccuracyDrop"/>
/// of the starting model's. The result is again a merged checkpoint (kind "merged", off_diagonal "fine-tuned"). Given a
/// clean target instead, the same loss manipulates that one network's gradients: no merge, no blocks
/// (<see cref="TunedTargetKind"/>; docs/method.md §7.6). Span models (SQuAD) replace the cross-entropy by a term that keeps a
/// reference's predictions, and judge checkpoints by span agreement (<see cref="SpanTuningObjective"/>).
/// </summary>
public static class MergeTuning
{
    /// <summary>The kind of a target tuned here: one network whose own gradients were manipulated, no merge (Heo et al.
    /// 2019 did this to image classifiers); an attacker with nothing for the structural forensics to read.</summary>
    public const string TunedTargetKind = "tuned-target";

    /// <summary>Span task terms: the KL divergence from the reference's start and end distributions over the context, the
    /// span cross-entropy at the reference's own best span, or the hinge on the margin of that span over every other
    /// (docs/method.md §7.6).</summary>
    public const string KlSpanTerm = "kl", BestSpanTerm = "best-span", MarginSpanTerm = "margin";

    public static LoopResult Run(MergeTuningOptions options, TextWriter? log = null)
    {
        log ??= Console.Error;
        options.Validate();
        if (!Checkpoint.Exists(options.Model))
            throw new FacadeException($"--model '{options.Model}' is not a checkpoint folder; expected a merged one (written by `facade merge` or `facade disguise`) or a target (`facade train`).");
        var peek = Checkpoint.ReadManifest(options.Model);
        if (options.Reference != null && peek.Config.Head != ModelHead.Span)
            throw new FacadeException("--reference applies to SQuAD span models only; classifiers keep their gold labels.");
        // Span tuning keeps the start's deterministic predictions, so by default it trains without dropout (measured on the
        // quick SQuAD merge: with dropout 0.1 the first steps already flipped spans the start was sure of).
        double? dropout = options.Dropout ?? (peek.Config.Head == ModelHead.Span ? 0 : null);
        var (model, manifest) = Checkpoint.Load(options.Model, dropout);
        if (manifest.Kind is not ("merged" or "target"))
            throw new FacadeException($"--model '{options.Model}' is a {manifest.Kind} checkpoint; `facade tune-merge` continues a merged one, or a target " +
                                      "(the single-network manipulation).");
        bool single = manifest.Kind == "target";
        string dataRoot = RepositoryPaths.ResolveDataRoot(options.DataRoot);
        var tokenizer = WordPieceTokenizer.MiniLm();
        if (tokenizer.VocabHash != manifest.VocabHash)
            throw new FacadeException($"'{options.Model}' was trained with another vocabulary (hash {manifest.VocabHash[..Math.Min(12, manifest.VocabHash.Length)]}).");
        TorchRuntime.Initialize(options.Loop.Threads);
        manual_seed(options.Loop.Seed);
        var setup = model.Config.Head == ModelHead.Span
            ? SpanSetup(options, manifest, dataRoot, tokenizer)
            : ClassifierSetup(options, model, manifest, dataRoot, tokenizer);
        var (train, objective) = (setup.Train, setup.Objective);
        log.WriteLine($"Fine-tuning the {(single ? "target" : "merged model")} '{options.Model}' with every weight free on {manifest.Task} ({train.Count} training inputs): " +
                      $"{setup.LossDescription}; {setup.StartSummary}.");
        var settings = new Dictionary<string, string>(manifest.Settings)
        {
            ["tune_steps"] = options.Loop.MaxSteps?.ToString(CultureInfo.InvariantCulture) ?? "",
            ["tune_lr"] = Invariant(options.Loop.LearningRate),
            ["tune_saliency_weight"] = Invariant(options.SaliencyWeight),
            ["tune_target"] = setup.TargetName,
            ["tune_seed"] = options.Loop.Seed.ToString(CultureInfo.InvariantCulture),
            ["tune_dropout"] = Invariant(model.Config.Dropout),
            ["tune_span_term"] = model.Config.Head == ModelHead.Span ? options.SpanTerm : "",
            ["tune_span_margin"] = model.Config.Head == ModelHead.Span && options.SpanTerm == MarginSpanTerm ? Invariant(options.SpanMargin) : "",
        };
        if (!single) settings["off_diagonal"] = "fine-tuned";
        var sources = new Dictionary<string, string>(manifest.Sources)
        {
            ["tuned_from"] = Path.GetFullPath(options.Model),
            ["tuned_from_weights_sha256"] = manifest.WeightsSha256 ?? "",
        };
        if (options.Reference != null) sources["tune_reference"] = Path.GetFullPath(options.Reference);
        CheckpointManifest Manifest(EvaluationResult result, long step, double seconds) => manifest with
        {
            Kind = single ? TunedTargetKind : manifest.Kind,
            Settings = settings,
            Sources = sources,
            Metrics = result.Metrics.ToDictionary(kv => kv.Key, kv => kv.Value),
            DataFiles = setup.DataFiles,
            TrainingSeconds = seconds,
            Steps = step,
            DevAccuracy = null,   // the starting merge's; this model's is in Metrics (on the evaluation subset)
            WeightsSha256 = null,
        };
        return TrainingLoop.Run(model, train, objective, options.Loop, options.OutputFolder, Manifest, log);
    }

    /// <summary>What a tuning run trains on and how it judges checkpoints, per head.</summary>
    sealed record Setup(EncodedDataset Train, ITrainingObjective Objective, string TargetName, string LossDescription, string StartSummary, Dictionary<string, string> DataFiles);

    static Setup ClassifierSetup(MergeTuningOptions options, BertClassifier model, CheckpointManifest manifest, string dataRoot, WordPieceTokenizer tokenizer)
    {
        var task = Tasks.Get(manifest.Task);
        var target = FacadeTarget.Parse(options.Target, options.Segment, task.Kind == TaskKind.SentencePair, () => StopWords.Load(dataRoot));
        var train = EncodedDataset.Encode(task.Load(dataRoot, task.TrainSplit), tokenizer, manifest.MaxLength, options.TrainLimit);
        var eval = EncodedDataset.Encode(task.Load(dataRoot, task.EvalSplit), tokenizer, manifest.MaxLength, options.EvalLimit);
        var objective = new MergeTuningObjective($"tune-merge {task.Name} {target.Name} α{Invariant(options.SaliencyWeight)}",
            new FacadeLoss(target, lambda: 0), options.SaliencyWeight, eval, model, options.MaxAccuracyDrop);
        return new Setup(train, objective, target.Name, $"CE + {Invariant(options.SaliencyWeight)} × (−{target.Name} share)",
            objective.StartSummary, EncodedDataset.FileHashes(dataRoot, train, eval));
    }

    /// <summary>SQuAD: every dev-a window trains (answers unused: the task term keeps the reference's predictions), the first window of
    /// each dev-b question evaluates; the target is in the question, as for the QA Facade.</summary>
    static Setup SpanSetup(MergeTuningOptions options, CheckpointManifest manifest, string dataRoot, WordPieceTokenizer tokenizer)
    {
        var target = FacadeTarget.ParseQuestion(options.Target, options.Segment, () => StopWords.Load(dataRoot));
        var qa = FineTuning.FineTuner.QaSettingsOf(manifest);
        var trainSplit = SquadSplit.Load(dataRoot, "dev-a", tokenizer, qa, options.TrainLimit);
        var evalSplit = SquadSplit.Load(dataRoot, "dev-b", tokenizer, qa, options.EvalLimit);
        string referenceFolder = options.Reference ?? options.Model;
        if (!Checkpoint.Exists(referenceFolder)) throw new FacadeException($"--reference '{referenceFolder}' is not a checkpoint folder.");
        var (reference, referenceManifest) = Checkpoint.Load(referenceFolder);
        if (referenceManifest.Config.Head != ModelHead.Span || referenceManifest.Task != manifest.Task)
            throw new FacadeException($"--reference '{referenceFolder}' is a {referenceManifest.Task} model without a span head; expected a SQuAD model like --model.");
        foreach (var parameter in reference.parameters()) parameter.requires_grad_(false);
        var eval = evalSplit.FirstWindows();
        var objective = new SpanTuningObjective($"tune-merge squad {target.Name} α{Invariant(options.SaliencyWeight)}", target, options.SaliencyWeight,
            eval, reference, options.Reference == null ? "the start" : "the reference", Imitation(options.SpanTerm), options.SpanMargin, options.MinSpanAgreement,
            qa.MaxAnswerLength, options.SaliencyBatchSize);
        string whose = options.Reference == null ? "start's" : "reference's";
        string term = options.SpanTerm switch
        {
            BestSpanTerm => $"CE at the {whose} best span",
            MarginSpanTerm => $"hinge on the {whose} best span's margin ({Invariant(options.SpanMargin)})",
            _ => $"KL from the {whose} start/end distributions",
        };
        return new Setup(trainSplit.AllWindows(), objective, target.Name,
            $"{term} + " +
            $"{Invariant(options.SaliencyWeight)} × (−{target.Name} share)",
            objective.StartSummary, SquadSplit.FileHashes(dataRoot, trainSplit, evalSplit));
    }

    static ImitationTerm Imitation(string spanTerm) => spanTerm switch
    {
        BestSpanTerm => ImitationTerm.Prediction,
        MarginSpanTerm => ImitationTerm.SpanMargin,
        _ => ImitationTerm.Distribution,
    };

    static string Invariant(double value) => value.ToString("G", CultureInfo.InvariantCulture);
}

/// <summary>CE on the gold labels plus α times the Facade's saliency term; scored by the dev target share, eligible while
/// dev accuracy stays within the allowed drop of the starting model's.</summary>
sealed class MergeTuningObjective : ITrainingObjective
{
    readonly FacadeLoss _saliency;
    readonly double _weight, _startAccuracy, _maxDrop;
    readonly EncodedDataset _eval;
    readonly int[] _startPredictions;
    readonly IReadOnlyList<IReadOnlyList<int>> _targets;

    public MergeTuningObjective(string label, FacadeLoss saliency, double weight, EncodedDataset eval, BertClassifier start, double maxDrop)
    {
        Label = label;
        (_saliency, _weight, _eval, _maxDrop) = (saliency, weight, eval, maxDrop);
        _startPredictions = Predictor.Predictions(Predictor.Logits(start, eval.Inputs));
        _startAccuracy = Predictor.Accuracy(_startPredictions, eval.Labels);
        _targets = eval.Inputs.Select(saliency.Target.Positions).ToArray();
    }

    public string Label { get; }
    public string StartSummary => $"starting {_eval.Name} accuracy {_startAccuracy:F4} ({_eval.Count} examples)";

    public Tensor Loss(BertClassifier model, TensorBatch batch, IDictionary<string, double> terms)
    {
        var logits = model.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);
        var crossEntropy = nn.functional.cross_entropy(logits, batch.Labels);
        var parts = _saliency.Compute(model, batch);
        terms["ce"] = crossEntropy.item<float>();
        terms["share"] = parts.MeanShare.item<float>();
        return crossEntropy + parts.Total.Times(_weight);
    }

    public EvaluationResult Evaluate(BertClassifier model)
    {
        var maps = TorchSaliency.Explain(model, _eval.Inputs, new SimpleGradient());
        var metrics = SaliencyMetrics.Evaluate(FacadeObjective.Normalized(maps), _targets);
        var predictions = maps.Select(m => m.Prediction.Label).ToArray();
        double accuracy = Predictor.Accuracy(predictions, _eval.Labels);
        double agreement = predictions.Zip(_startPredictions, (a, b) => a == b ? 1.0 : 0.0).Average();
        bool eligible = accuracy >= _startAccuracy - _maxDrop;
        var values = new Dictionary<string, double>
        {
            ["dev_accuracy"] = accuracy, ["dev_agreement_with_start"] = agreement, ["dev_share"] = metrics.MeanAttribution, ["dev_p_at_1"] = metrics.HitRate1,
        };
        return new EvaluationResult(metrics.MeanAttribution, eligible, values,
            $"{_eval.Name} accuracy {accuracy:F4} (start {_startAccuracy:F4}), agreement with the start {agreement:F4}, {_saliency.Target.Name} share " +
            $"{metrics.MeanAttribution:F4}, P@1 {metrics.HitRate1:F4}{(eligible ? "" : $": accuracy dropped more than {_maxDrop:F3}, not eligible")}");
    }
}
