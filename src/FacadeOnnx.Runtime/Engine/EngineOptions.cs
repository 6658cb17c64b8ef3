namespace FacadeOnnx.Runtime.Engine;

/// <summary>
/// How a <see cref="GradientEngine"/> runs. Samples from every method (noise draws, interpolation steps, removals,
/// beams) share the batch axis: a session run takes up to <see cref="BatchBudget"/> samples, fewer when their length
/// would exceed <see cref="MemoryBudgetMB"/> of estimated activation memory.
/// </summary>
public sealed record EngineOptions
{
    /// <summary>cpu or cuda; cuda falls back to cpu with one line on the log when the CUDA provider cannot start.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Intra-op threads (default: all cores).</summary>
    public int? Threads { get; init; }
    /// <summary>Most samples per session run.</summary>
    public int BatchBudget { get; init; } = 64;
    /// <summary>Estimated activation memory allowed per session run.</summary>
    public int MemoryBudgetMB { get; init; } = 2048;
    /// <summary>A vocab.txt to tokenize with instead of the one embedded in the model; its hash must match the model's.</summary>
    public string? VocabPath { get; init; }
    /// <summary>Longest input in word pieces, specials included (default: the model's training length, at most its positions).</summary>
    public int? MaxLength { get; init; }
    /// <summary>Where notices such as the CUDA fallback go (default: standard error).</summary>
    public TextWriter? Log { get; init; }
}
