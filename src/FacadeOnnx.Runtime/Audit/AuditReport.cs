using System.Text.Json;
using System.Text.Json.Serialization;
using FacadeOnnx.Runtime.Faithfulness;
using FacadeOnnx.Runtime.Metrics;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Audit;

/// <summary>Everything measured for one model in an audit.</summary>
public sealed record ModelAudit
{
    public required string Role { get; init; }
    public required string Path { get; init; }
    public required string Sha256 { get; init; }
    public required string Kind { get; init; }
    public required int Sentences { get; init; }
    /// <summary>Share of predictions equal to the gold label; null (absent from report.json) when the input has no labels.</summary>
    public double? Accuracy { get; init; }
    /// <summary>Per method (simple, smooth, ig, loo): how strongly saliency points at the first token.</summary>
    public required Dictionary<string, TargetMetrics> FirstToken { get; init; }
    /// <summary>Per method: how strongly saliency points at stop words (in the audited segment).</summary>
    public required Dictionary<string, TargetMetrics> StopWords { get; init; }
    public ReductionSummary? Reduction { get; init; }
    public HotFlipSummary? HotFlip { get; init; }
    /// <summary>Per method: mean comprehensiveness and sufficiency AOPCs, deletion area and curve; null (absent) with --no-faithfulness.</summary>
    public Dictionary<string, FaithfulnessMetrics>? Faithfulness { get; init; }
    public required ManipulationVerdict Verdict { get; init; }
    public required double Seconds { get; init; }
}

/// <summary>How two audited models relate on the same sentences (the accuracy difference only with labels).</summary>
public sealed record Comparison(double PredictionAgreement, double? AccuracyDifference, double? ReductionIoU);

/// <summary>
/// The user's file an audit read instead of a dataset split (--input): where it is, its SHA-256, its format and the
/// columns (or JSON keys) read (none for .txt), how many records it holds and how many were audited (the first ones, with --limit),
/// and whether it has labels and pairs.
/// </summary>
public sealed record AuditInput(string Path, string Sha256, CorpusFormat Format, string? TextColumn, string? PairColumn, string? LabelColumn,
    int Records, int Audited, bool Labelled, bool Pairs)
{
    public static AuditInput Of(UserCorpus corpus, int audited) => new(corpus.Path, corpus.Sha256, corpus.Format,
        corpus.Format == CorpusFormat.Lines ? null : corpus.Columns.Text,
        corpus.IsPairs ? corpus.Columns.Pair ?? CorpusColumns.DefaultJsonPair : null,
        corpus.HasLabels ? corpus.Columns.Label ?? CorpusColumns.DefaultJsonLabel : null,
        corpus.Records.Count, audited, corpus.HasLabels, corpus.IsPairs);

    /// <summary>One line for people (report.md and report.html).</summary>
    public string Describe() =>
        $"{Audited} of {Records} records, {(Labelled ? "labelled" : "no labels, so no accuracy")}{(Pairs ? ", pairs" : "")}; sha256 {Sha256[..12]}…";
}

/// <summary>One sentence shown as side-by-side heatmaps in the HTML report; <see cref="Index"/> is its record index.</summary>
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
    /// <summary>The user's file audited instead of a split; null (absent) for a dataset audit.</summary>
    public AuditInput? Input { get; init; }
    /// <summary>Texts cut at the maximum length: always for an input file, for a dataset split only when a text was cut.</summary>
    public TruncationSummary? Truncation { get; init; }
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
