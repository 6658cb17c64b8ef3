namespace FacadeOnnx.Runtime.Engine;

/// <summary>
/// How a <see cref="GradientEngine"/> runs. Samples from every method (noise draws, interpolation steps, removals,
/// beams) share the batch axis: a session run takes up to <see cref="BatchBudget"/> samples, fewer when their length
/// would exceed <see cref="MemoryBudgetMB"/> of estimated activation memory.
/// </summary>
public sealed record EngineOptions
{
    /// <summary>Cpu or Cuda; Cuda falls back to Cpu with one line on the log when the CUDA provider cannot start.</summary>
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Cpu;
    /// <summary>Intra-op threads (default: all cores). Every ONNX Runtime session in the process shares one pool
    /// (<see cref="OrtEnvironment"/>), whose size the first engine (or benchmark) to load sets; a later engine asking
    /// for another size runs on the pool as it is, with a note on its log.</summary>
    public int? Threads { get; init; }
    /// <summary>Most samples per session run.</summary>
    public int BatchBudget { get; init; } = 64;
    /// <summary>Estimated activation memory allowed per session run.</summary>
    public int MemoryBudgetMB { get; init; } = 2048;
    /// <summary>A vocab.txt to tokenize with instead of the one embedded in the model; its hash must match the model's.</summary>
    public string? VocabPath { get; init; }
    /// <summary>Longest input in word pieces, specials included (default: the model's training length, at most its positions).</summary>
    public int? MaxLength { get; init; }
    /// <summary>Where notices such as the CUDA fallback and the thread pool in use go (default: standard error).</summary>
    public TextWriter? Log { get; init; }
}
