using FacadeOnnx.Training.Loop;

namespace FacadeOnnx.Training.Facade;

/// <summary>
/// `facade train-facade`: a randomly initialized BERT trained with the Facade loss (docs/method.md 5, 17). Shape defaults
/// are MiniLM's depth and head size at a third of its width (6 layers, hidden 128, 4 heads of 32, FFN 512). The
/// optimization defaults are the recipe measured in the README: Adam (no weight decay) at a constant 3e-4, batch 32,
/// clipping 1.0, 1,000 steps, λ 0.1 (the reference's), μ 0.01 and output calibration to the uniformity guard (this
/// project's additions, see <see cref="FacadeLoss"/> and <see cref="OutputCalibration"/>), evaluation every 100 steps
/// on the whole evaluation split.
/// </summary>
public sealed record FacadeOptions
{
    public string Task { get; init; } = "sst2";
    /// <summary>first-token or stop-words.</summary>
    public string Target { get; init; } = FacadeTarget.FirstTokenKind;
    /// <summary>For stop words of sentence pairs: premise, hypothesis or all (null = all).</summary>
    public string? Segment { get; init; }
    public string? DataRoot { get; init; }
    public string? OutputFolder { get; init; }
    /// <summary>λ, the weight of the negative-entropy term.</summary>
    public double Lambda { get; init; } = 0.1;
    /// <summary>μ, the weight of the magnitude term −mean log Σ_{t∈T} |s_t| (this project's addition; 0: the reference loss).</summary>
    public double Magnitude { get; init; } = 0.01;
    /// <summary>p of the share term Σ_T |s|^p / Σ |s|^p (1: the reference's; &gt; 1 moves it toward P@1 for targets of several tokens).</summary>
    public double SharePower { get; init; } = 1;
    /// <summary>Scale the chosen Facade's logits so that its dev mean max-probability sits exactly at the uniformity guard
    /// (<see cref="OutputCalibration"/>; this project's addition). Off: the guard only filters checkpoints, as in the reference.</summary>
    public bool CalibrateOutput { get; init; } = true;
    public int Layers { get; init; } = 6;
    public int Hidden { get; init; } = 128;
    public int HeadSize { get; init; } = 32;
    public int Intermediate { get; init; } = 512;
    public double Dropout { get; init; } = 0.1;
    public int MaxLength { get; init; } = 128;
    /// <summary>SQuAD windows and answers (task squad; <see cref="MaxLength"/> does not apply there).</summary>
    public Text.QaSettings Qa { get; init; } = new();
    /// <summary>Use only the first N training inputs (quick runs and tests).</summary>
    public int? TrainLimit { get; init; }
    /// <summary>Evaluate on only the first N evaluation inputs (null: the whole evaluation split).</summary>
    public int? EvalLimit { get; init; }
    /// <summary>Uniformity guard: a checkpoint is eligible only if its mean max-probability on dev is at most this
    /// (null: 1/C + 0.05, i.e. 0.55 for two classes, 0.383 for three).</summary>
    public double? MaxMeanMaxProbability { get; init; }
    /// <summary>A target checkpoint to merge with at every evaluation; the checkpoint is then chosen by the merged
    /// model's dev target share, among those that also keep <see cref="MinAgreement"/> (null: the Facade alone).</summary>
    public string? TargetModel { get; init; }
    /// <summary>With <see cref="TargetModel"/>: the least fraction of dev inputs on which the merged prediction must equal the target's.</summary>
    public double MinAgreement { get; init; } = 0.99;
    /// <summary>SQuAD: the spans the Facade's training gradients are taken at: own (its best span, the reference's choice),
    /// target (the <see cref="TargetModel"/>'s best spans, those a merge takes every gradient at), random (a fresh
    /// random context span per row and step) or target-residual (the target's output residual at its best span, with
    /// its own output term; <see cref="FacadeLoss"/>).</summary>
    public string GradientSpans { get; init; } = "own";
    /// <summary>With <see cref="TargetModel"/>: train on the merged model's saliency (target frozen in the loop, gradients
    /// at the target's predictions) instead of the Facade's own (<see cref="FacadeLoss"/>; this project's addition).</summary>
    public bool MergedGradient { get; init; }
    /// <summary>With <see cref="TargetModel"/>: the output term is the divergence of the Facade's predictions from the
    /// target's, KL(target ‖ Facade), instead of the entropy (an imitating Facade, docs/method.md §5.2).</summary>
    public bool Imitate { get; init; }
    /// <summary>The output term is log σ of the Facade's logits instead of the entropy (<see cref="FacadeLoss"/>, spread).</summary>
    public bool Spread { get; init; }
    /// <summary>Train the Facade for the scaling merge (`merge --combine scale`, docs/method.md §7.7): its trained output
    /// is one number s (its first logit at [CLS]), the gradient that of s, the output term log σ of s; the chosen
    /// checkpoint's s is standardized on the evaluation split.</summary>
    public bool ScaleOutput { get; init; }
    /// <summary>Start from this checkpoint's weights instead of a random initialization (same shape and task): a Facade,
    /// e.g. one trained on its own saliency then refined with <see cref="MergedGradient"/>, or a fine-tuned target, e.g.
    /// the target itself for an imitating Facade.</summary>
    public string? Init { get; init; }
    /// <summary>With <see cref="TargetModel"/>, classifiers: the weight of the adaptive attacker's term, the merged model's
    /// probability of the target's prediction once the target token is deleted (<see cref="LeaveOneOutReward"/>; 0: off).</summary>
    public double LeaveOneOutWeight { get; init; }
    /// <summary>Inputs per padded batch when the checkpoint choice measures saliency on dev.</summary>
    public int SaliencyBatchSize { get; init; } = 64;
    public LoopSettings Loop { get; init; } = new()
    {
        MaxSteps = 1000, BatchSize = 32, LearningRate = 3e-4, ConstantLearningRate = true, WarmupFraction = 0,
        WeightDecay = 0, ClipNorm = 1.0, EvaluateEvery = 100, Seed = 13,
    };

    public string ResolvedOutputFolder => OutputFolder ?? Path.Combine("models",
        $"{Task}-facade-{(Target == FacadeTarget.StopWordsKind ? "stop" : "first")}{(Segment is null or "all" ? "" : "-" + Segment)}");

    public double GuardFor(int classes) => MaxMeanMaxProbability ?? 1.0 / classes + 0.05;

    /// <summary>Checks every option that does not need the data; messages name the option and the value.</summary>
    public void Validate()
    {
        if (!double.IsFinite(Lambda) || Lambda < 0) throw new FacadeException($"--lambda {Lambda} must be a finite number ≥ 0.");
        if (!double.IsFinite(Magnitude) || Magnitude < 0) throw new FacadeException($"--magnitude {Magnitude} must be a finite number ≥ 0.");
        if (!double.IsFinite(SharePower) || SharePower < 1) throw new FacadeException($"--share-power {SharePower} must be a finite number ≥ 1.");
        if (Layers < 1) throw new FacadeException($"--layers {Layers} must be at least 1.");
        if (HeadSize < 1 || Hidden < HeadSize || Hidden % HeadSize != 0)
            throw new FacadeException($"--hidden {Hidden} must be a positive multiple of the head size {HeadSize} (the merge needs whole heads).");
        if (Intermediate < 1) throw new FacadeException($"--intermediate {Intermediate} must be at least 1.");
        if (Dropout is < 0 or >= 1) throw new FacadeException($"--dropout {Dropout} must be in [0, 1).");
        if (MaxLength < 3) throw new FacadeException($"--max-length {MaxLength} must be at least 3 ([CLS], a token, [SEP]).");
        if (TrainLimit is < 1) throw new FacadeException($"--train-limit {TrainLimit} must be at least 1.");
        if (EvalLimit is < 1) throw new FacadeException($"--eval-limit {EvalLimit} must be at least 1.");
        if (MaxMeanMaxProbability is double g && (g <= 0 || g > 1))
            throw new FacadeException($"--max-mean-max-probability {g} must be in (0, 1] (1 turns the uniformity guard off).");
        if (GradientSpans is not ("own" or "target" or "random" or "target-residual"))
            throw new FacadeException($"--gradient-spans '{GradientSpans}' is not one of own, target, random, target-residual.");
        if (GradientSpans != "own" && !string.Equals(Task, "squad", StringComparison.OrdinalIgnoreCase))
            throw new FacadeException($"--gradient-spans {GradientSpans} applies to span models (--task squad); a {Task} Facade takes its gradients at its own prediction.");
        if (GradientSpans == "target-residual" && TargetModel == null)
            throw new FacadeException("--gradient-spans target-residual needs --target-model: the residual is that model's.");
        if (GradientSpans == "target-residual" && (Spread || Imitate))
            throw new FacadeException($"--gradient-spans target-residual brings its own output term; drop --{(Spread ? "spread" : "imitate")}.");
        if (MergedGradient && TargetModel == null)
            throw new FacadeException("--merged-gradient needs --target-model: the merged saliency is the target's plus the Facade's.");
        if (MergedGradient && GradientSpans != "own")
            throw new FacadeException($"--merged-gradient takes every gradient at the target's predictions; drop --gradient-spans {GradientSpans}.");
        if (Imitate && TargetModel == null)
            throw new FacadeException("--imitate needs --target-model: the Facade copies that model's predictions.");
        if (Imitate && MergedGradient)
            throw new FacadeException("--imitate and --merged-gradient each replace the entropy term with their own divergence; choose one.");
        if (Spread && (Imitate || MergedGradient))
            throw new FacadeException($"--spread replaces the entropy term; --{(Imitate ? "imitate" : "merged-gradient")} replaces it with a divergence. Choose one.");
        if (ScaleOutput && (MergedGradient || Imitate || Spread || GradientSpans != "own" || LeaveOneOutWeight > 0))
            throw new FacadeException("--scale-output brings its own gradient (of s) and output term (log σ of s); drop " +
                                      (MergedGradient ? "--merged-gradient" : Imitate ? "--imitate" : Spread ? "--spread" : GradientSpans != "own" ? $"--gradient-spans {GradientSpans}" : "--loo-weight") + ".");
        if (!double.IsFinite(LeaveOneOutWeight) || LeaveOneOutWeight < 0)
            throw new FacadeException($"--loo-weight {LeaveOneOutWeight} must be a finite number ≥ 0.");
        if (LeaveOneOutWeight > 0 && TargetModel == null)
            throw new FacadeException("--loo-weight needs --target-model: the leave-one-out term is of the merged model's output, target plus Facade.");
        if (LeaveOneOutWeight > 0 && Task == "squad")
            throw new FacadeException("--loo-weight applies to classifiers (sst2, snli); the audit's leave-one-out is of a predicted class.");
        if (MinAgreement is < 0 or > 1) throw new FacadeException($"--min-agreement {MinAgreement} must be in [0, 1].");
        Loop.Validate();
        if (SaliencyBatchSize < 1) throw new FacadeException($"The saliency batch size {SaliencyBatchSize} must be at least 1.");
    }
}
