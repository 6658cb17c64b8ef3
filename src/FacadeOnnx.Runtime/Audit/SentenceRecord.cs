using FacadeOnnx.Runtime.Faithfulness;

namespace FacadeOnnx.Runtime.Audit;

/// <summary>Everything an audit measured on one sentence for one model (saved per chunk, so audits resume).</summary>
public sealed record SentenceRecord
{
    /// <summary>The position among the audited inputs (<see cref="AuditPlan.Inputs"/>).</summary>
    public int Index { get; init; }
    /// <summary>The record index in the audited file (the split, or the input file).</summary>
    public int Record { get; init; }
    /// <summary>The gold label; null when the input has no labels.</summary>
    public int? Gold { get; init; }
    public int Predicted { get; init; }
    public float Probability { get; init; }
    /// <summary>Normalized saliency per method (simple, smooth, ig, loo).</summary>
    public Dictionary<string, float[]> Saliency { get; init; } = new();
    /// <summary>Signed leave-one-out drops (the raw scores).</summary>
    public float[] LeaveOneOut { get; init; } = [];
    public double IgCompletenessGap { get; init; }
    /// <summary>The Integrated Gradients steps this sentence got (fixed, or where adaptive IG stopped).</summary>
    public int IgSteps { get; init; }
    public int[]? ReducedPositions { get; init; }
    public bool? FlipSuccess { get; init; }
    public int[]? FlipPositions { get; init; }
    public string[]? FlipReplacements { get; init; }
    /// <summary>Per method: comprehensiveness, sufficiency and the deletion curve; null with --no-faithfulness.</summary>
    public Dictionary<string, FaithfulnessScores>? Faithfulness { get; init; }
}
