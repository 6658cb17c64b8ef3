using FacadeOnnx.Text;
using FacadeOnnx.Training.Loop;

namespace FacadeOnnx.Training.FineTuning;

/// <summary>
/// `facade train`: fine-tune MiniLM with the classification head on a task, or with the span head on SQuAD. Defaults are
/// the recipe measured in the README (AdamW 5e-5, batch 32, 3 epochs, 10% warm-up then linear decay, clipping 1.0,
/// dropout 0.1).
/// </summary>
public sealed record FineTuneOptions
{
    public string Task { get; init; } = "sst2";
    public string? DataRoot { get; init; }
    public string? OutputFolder { get; init; }
    /// <summary>Maximum pieces per classification input (SQuAD windows follow <see cref="Qa"/>).</summary>
    public int MaxLength { get; init; } = 128;
    /// <summary>Windows, stride and answer length for SQuAD.</summary>
    public QaSettings Qa { get; init; } = new();
    public int EvalBatchSize { get; init; } = 64;
    /// <summary>Use only the first N training examples (quick runs and tests).</summary>
    public int? TrainLimit { get; init; }
    /// <summary>Evaluate on only the first N evaluation examples (quick runs and tests).</summary>
    public int? EvalLimit { get; init; }
    public LoopSettings Loop { get; init; } = new() { Epochs = 3, BatchSize = 32, LearningRate = 5e-5, Seed = 13 };

    /// <summary>The span target's loop as measured in the README (AdamW 1e-4, batch 16, 2 epochs); `facade train --task
    /// squad` uses it for every loop flag not given.</summary>
    public static LoopSettings SquadLoop { get; } = new FineTuneOptions().Loop with { Epochs = 2, BatchSize = 16, LearningRate = 1e-4 };

    public string ResolvedOutputFolder => OutputFolder ?? Path.Combine("models", $"{Task}-target");
}
