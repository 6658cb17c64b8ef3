namespace FacadeOnnx.Training.Loop;

/// <summary>Optimization and bookkeeping settings shared by fine-tuning, Facade training and regularization.</summary>
public sealed record LoopSettings
{
    public int Epochs { get; init; } = 3;
    /// <summary>Stops after this many optimizer steps (overrides <see cref="Epochs"/>; epochs repeat as needed).</summary>
    public int? MaxSteps { get; init; }
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 5e-5;
    /// <summary>Linear warm-up over this fraction of the steps, then linear decay to zero; 0 and <see cref="ConstantLearningRate"/> keep it flat.</summary>
    public double WarmupFraction { get; init; } = 0.1;
    public bool ConstantLearningRate { get; init; }
    /// <summary>AdamW weight decay (not applied to biases and LayerNorm parameters).</summary>
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Gradient-norm clipping; 0 turns it off.</summary>
    public double ClipNorm { get; init; } = 1.0;
    public long Seed { get; init; } = 13;
    /// <summary>Evaluate every this many steps; 0 evaluates at the end of each epoch.</summary>
    public int EvaluateEvery { get; init; }
    /// <summary>Write the resumable state every this many steps (and after every evaluation).</summary>
    public int SaveResumeEvery { get; init; } = 100;
    /// <summary>Discard an interrupted run found in the output folder instead of resuming it.</summary>
    public bool Fresh { get; init; }
    public int? Threads { get; init; }

    /// <summary>Refuses settings no run can use, naming the command-line option.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new FacadeException($"--epochs {Epochs} must be at least 1.");
        if (MaxSteps is < 1) throw new FacadeException($"--max-steps {MaxSteps} must be at least 1.");
        if (BatchSize < 1) throw new FacadeException($"--batch {BatchSize} must be at least 1.");
        if (!double.IsFinite(LearningRate) || LearningRate <= 0) throw new FacadeException($"--lr {LearningRate} must be a positive number.");
        if (EvaluateEvery < 0) throw new FacadeException($"--eval-every {EvaluateEvery} must be ≥ 0 (0: once per epoch).");
    }
}
