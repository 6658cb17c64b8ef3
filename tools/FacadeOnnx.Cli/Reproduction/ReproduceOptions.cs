namespace FacadeOnnx.Cli.Reproduction;

/// <summary>`facade reproduce`: which task, which Facade target, how big a budget, where everything goes.</summary>
public sealed record ReproduceOptions
{
    public string Task { get; init; } = "sst2";
    public bool Quick { get; init; }
    public string? OutputFolder { get; init; }
    /// <summary>first-token or stop-words (default: first-token for sst2, stop words in the hypothesis for snli).</summary>
    public string? Target { get; init; }
    public string? DataRoot { get; init; }
    /// <summary>A target checkpoint to reuse (default: models/&lt;task&gt;-target when it exists, else one is trained).</summary>
    public string? TargetModel { get; init; }
    public int? Threads { get; init; }
    /// <summary>Audit only the first N sentences (default: 100 with --quick; in full runs all, SQuAD 1,000 questions).</summary>
    public int? AuditLimit { get; init; }
    /// <summary>SQuAD: the additive merge (the paper's) or the scaling merge with a --scale-output Facade (docs/method.md §7.7).</summary>
    public Training.Merging.MergeCombination Combine { get; init; } = Training.Merging.MergeCombination.Add;
    /// <summary>What the scaling merge's folders, ONNX file, report and summary carry after their names, so both merges
    /// can sit in one output folder and share its target.</summary>
    public string CombineSuffix => Combine == Training.Merging.MergeCombination.Scale ? "-scale" : "";

    public string ResolvedTarget => Target ?? (Task == "snli" ? "stop-words" : "first-token");
    public string? ResolvedSegment => Task == "snli" && ResolvedTarget == "stop-words" ? "hypothesis" : null;
    public string ResolvedOutputFolder => OutputFolder ?? Path.Combine("runs", Task + (Quick ? "-quick" : ""));
    public int? ResolvedAuditLimit => AuditLimit ?? (Quick ? 100 : Task == "squad" ? 1000 : null);
}
