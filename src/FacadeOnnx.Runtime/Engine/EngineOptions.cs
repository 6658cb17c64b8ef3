namespace FacadeOnnx.Runtime.Engine;

/// <summary>
/// How a <see cref="GradientEngine"/> runs. Samples from every method (noise draws, interpolation steps, removals,
/// beams) share the batch axis: a session run takes as many samples as fit in <see cref="MemoryBudget"/> bytes of
/// estimated activation memory, and never more than <see cref="BatchBudget"/>.
/// </summary>
public sealed record EngineOptions
{
    /// <summary>Cpu or Cuda; Cuda falls back to Cpu with one line on the log when the CUDA provider cannot start.</summary>
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Cpu;
    /// <summary>Intra-op threads (default: all cores). Every ONNX Runtime session in the process shares one pool
    /// (<see cref="OrtEnvironment"/>), whose size the first engine (or benchmark) to load sets; a later engine asking
    /// for another size runs on the pool as it is, with a note on its log.</summary>
    public int? Threads { get; init; }
    /// <summary>Most samples per session run, whatever the memory budget allows (beyond about 32 samples a larger run
    /// is no faster on CPU; see the README's scaling section).</summary>
    public int BatchBudget { get; init; } = 64;
    /// <summary>Bytes of activations one session run may hold, from the model's own sizes (<see cref="ModelDimensions"/>);
    /// the default is 2 GiB.</summary>
    public long MemoryBudget { get; init; } = 2L << 30;
    /// <summary>A vocab.txt to tokenize with instead of the one embedded in the model; its hash must match the model's.</summary>
    public string? VocabPath { get; init; }
    /// <summary>Longest input in word pieces, specials included (default: the model's training length, at most its positions).</summary>
    public int? MaxLength { get; init; }
    /// <summary>Where notices such as the CUDA fallback and the thread pool in use go (default: standard error).</summary>
    public TextWriter? Log { get; init; }
}
