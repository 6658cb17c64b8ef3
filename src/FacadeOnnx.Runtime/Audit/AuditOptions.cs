using FacadeOnnx.Runtime.Attacks;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Audit;

/// <summary>What `facade audit` runs: which data, which target the metrics look for, and every method's settings.</summary>
public sealed record AuditOptions
{
    public string Task { get; init; } = "sst2";
    public string? DataRoot { get; init; }
    /// <summary>Audit only the first N sentences of the evaluation split.</summary>
    public int? Limit { get; init; }
    /// <summary>first-token or stop-words: the target the headline metrics measure (both are always computed).</summary>
    public string Target { get; init; } = "first-token";
    /// <summary>For pairs: the segment stop words are counted in and attacks may change (default: hypothesis for snli).</summary>
    public Segment? Segment { get; init; }
    public string OutputFolder { get; init; } = "audit";
    /// <summary>Sentences per resumable unit of work.</summary>
    public int ChunkSize { get; init; } = 32;
    public bool Attacks { get; init; } = true;
    /// <summary>Sentences shown as side-by-side heatmaps in the HTML report.</summary>
    public int HeatmapSamples { get; init; } = 8;
    public SaliencySettings Saliency { get; init; } = new();
    public InputReductionOptions Reduction { get; init; } = new();
    public HotFlipOptions HotFlip { get; init; } = new();
    public EngineOptions Engine { get; init; } = new();
    public VerdictThresholds Thresholds { get; init; } = new();

    /// <summary>Test hook: stop as if interrupted after computing this many chunks.</summary>
    internal int? InterruptAfterChunks { get; init; }

    public Segment ResolvedSegment => Segment ?? (Tasks.Get(Task).Kind == TaskKind.SentencePair ? Text.Segment.Second : Text.Segment.All);

    public static IReadOnlyList<string> Targets { get; } = ["first-token", "stop-words"];
}
