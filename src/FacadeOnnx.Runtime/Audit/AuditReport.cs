using System.Text.Json;
using System.Text.Json.Serialization;
using FacadeOnnx.Runtime.Metrics;

namespace FacadeOnnx.Runtime.Audit;

/// <summary>Everything measured for one model in an audit.</summary>
public sealed record ModelAudit
{
    public required string Role { get; init; }
    public required string Path { get; init; }
    public required string Sha256 { get; init; }
    public required string Kind { get; init; }
    public required int Sentences { get; init; }
    public required double Accuracy { get; init; }
    /// <summary>Per method (simple, smooth, ig, loo): how strongly saliency points at the first token.</summary>
    public required Dictionary<string, TargetMetrics> FirstToken { get; init; }
    /// <summary>Per method: how strongly saliency points at stop words (in the audited segment).</summary>
    public required Dictionary<string, TargetMetrics> StopWords { get; init; }
    public ReductionSummary? Reduction { get; init; }
    public HotFlipSummary? HotFlip { get; init; }
    public required ManipulationVerdict Verdict { get; init; }
    public required double Seconds { get; init; }
}

/// <summary>How two audited models relate on the same sentences.</summary>
public sealed record Comparison(double PredictionAgreement, double AccuracyDifference, double? ReductionIoU);

/// <summary>One sentence shown as side-by-side heatmaps in the HTML report.</summary>
public sealed record SampleSentence(int Index, string[] Tokens, Dictionary<string, Dictionary<string, float[]>> Saliency, Dictionary<string, string> Predictions);

/// <summary>The audit as written to report.json: settings, data and model hashes, every number, sample sentences.</summary>
public sealed record AuditReport
{
    public string Tool { get; init; } = "FacadeOnnx audit";
    public string Version { get; init; } = typeof(AuditReport).Assembly.GetName().Version?.ToString() ?? "0";
    public string CreatedAt { get; init; } = DateTime.UtcNow.ToString("O");
    public required string Task { get; init; }
    public required string Split { get; init; }
    public required string Target { get; init; }
    public required string Segment { get; init; }
    public required Dictionary<string, string> DataFiles { get; init; }
    public required Dictionary<string, string> Settings { get; init; }
    public required string[] LabelNames { get; init; }
    public required ModelAudit Model { get; init; }
    public ModelAudit? Compare { get; init; }
    public Comparison? Comparison { get; init; }
    public required List<SampleSentence> Samples { get; init; }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The headline metrics for the audit's target.</summary>
    public static Dictionary<string, TargetMetrics> Headline(ModelAudit audit, string target) =>
        target == "stop-words" ? audit.StopWords : audit.FirstToken;
}
