using System.Text.Json;
using FacadeOnnx.Runtime.Metrics;
using FacadeOnnx.Runtime.Reports;

namespace FacadeOnnx.Training.Facade;

/// <summary>One model measured by <see cref="FacadeEffect"/>.</summary>
public sealed record EffectModel
{
    public required string Name { get; init; }
    /// <summary>Classification accuracy; for span models the exact-match fraction.</summary>
    public required double Accuracy { get; init; }
    /// <summary>Span models: official SQuAD exact match and F1, in percent.</summary>
    public double? ExactMatch { get; init; }
    public double? F1 { get; init; }
    /// <summary>Fraction of inputs whose prediction equals the reference model's.</summary>
    public required double Agreement { get; init; }
    /// <summary>Per target ("first-token", "stop-words", ...), per method: the docs/method.md 12.1 metrics.</summary>
    public required Dictionary<string, Dictionary<string, TargetMetrics>> Saliency { get; init; }
    /// <summary>Merged models, simple gradient: mean over inputs of Σ_t|s_g| / (Σ_t|s_g| + Σ_t|s_f|) (docs/method.md 7.4 diagnostic).</summary>
    public double? FacadeMagnitudeShare { get; init; }
    /// <summary>Merged models, simple gradient: median over inputs of Σ_t|s_g| / Σ_t|s_f|.</summary>
    public double? MedianMagnitudeRatio { get; init; }
}

/// <summary>
/// The Facade's effect on a dataset, measured in TorchSharp: accuracy of each model, agreement with the first
/// (reference) model, the same saliency metrics an audit reports, and for merged models the share of raw saliency
/// magnitude that comes from the Facade's half. Rendered through the audit's tables.
/// </summary>
public sealed record EffectReport
{
    /// <summary>The evaluation set, e.g. "sst2/dev".</summary>
    public required string Dataset { get; init; }
    public required int Count { get; init; }
    public required string ReferenceModel { get; init; }
    public required List<EffectModel> Models { get; init; }
    public Dictionary<string, double> Seconds { get; init; } = new();
    public Dictionary<string, string> Settings { get; init; } = new();

    public string ToJson() => JsonSerializer.Serialize(this, Checkpoints.CheckpointManifest.Json);

    public List<ReportTable> Tables()
    {
        var tables = new List<ReportTable>
        {
            Models.Any(m => m.F1 != null)
                ? new($"{Dataset}, {Count} inputs", ["model", "EM", "F1", $"same span as {ReferenceModel}", "Facade magnitude share"],
                    Models.Select(m => new[] { m.Name, ReportTables.F(m.ExactMatch ?? double.NaN, "F2"), ReportTables.F(m.F1 ?? double.NaN, "F2"),
                        ReportTables.F(m.Agreement, "F4"), m.FacadeMagnitudeShare is double s ? ReportTables.F(s, "F4") : "" }).ToList())
                : new($"{Dataset}, {Count} inputs", ["model", "accuracy", $"agreement with {ReferenceModel}", "Facade magnitude share"],
                    Models.Select(m => new[] { m.Name, ReportTables.F(m.Accuracy, "F4"), ReportTables.F(m.Agreement, "F4"),
                        m.FacadeMagnitudeShare is double s ? ReportTables.F(s, "F4") : "" }).ToList()),
        };
        foreach (string target in Models.SelectMany(m => m.Saliency.Keys).Distinct())
            tables.Add(ReportTables.Saliency($"Saliency on the {target} target",
                Models.Where(m => m.Saliency.ContainsKey(target)).Select(m => (m.Name, (IReadOnlyDictionary<string, TargetMetrics>)m.Saliency[target])).ToArray()));
        return tables;
    }

    public string ToMarkdown() => MarkdownReport.Tables(Tables());
}
