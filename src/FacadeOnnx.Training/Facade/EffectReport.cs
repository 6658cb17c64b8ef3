using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FacadeOnnx.Training.Facade;

/// <summary>
/// The Facade's effect on a dataset: accuracy of each model, how often each model's prediction agrees with the first
/// (reference) model's, saliency metrics per model, method and target, and for merged models the share of raw
/// saliency magnitude that comes from the Facade's half.
/// </summary>
public sealed record EffectReport
{
    /// <summary>The evaluation set, e.g. "sst2/dev".</summary>
    public required string Dataset { get; init; }
    public required int Count { get; init; }
    public required string ReferenceModel { get; init; }
    public required Dictionary<string, double> Accuracy { get; init; }
    /// <summary>Fraction of inputs whose prediction equals the reference model's.</summary>
    public required Dictionary<string, double> Agreement { get; init; }
    public required List<EffectRow> Rows { get; init; }
    /// <summary>Merged models, simple gradient: mean over inputs of Σ_t|s_g| / (Σ_t|s_g| + Σ_t|s_f|) (METHOD.md 7.4 diagnostic).</summary>
    public Dictionary<string, double> FacadeMagnitudeShare { get; init; } = new();
    /// <summary>Merged models, simple gradient: median over inputs of Σ_t|s_g| / Σ_t|s_f|.</summary>
    public Dictionary<string, double> MedianMagnitudeRatio { get; init; } = new();
    public Dictionary<string, double> Seconds { get; init; } = new();
    public Dictionary<string, string> Settings { get; init; } = new();

    public string ToJson() => JsonSerializer.Serialize(this, Checkpoints.CheckpointManifest.Json);

    public string ToMarkdown()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.Append(c, $"{Dataset}, {Count} inputs; agreement with {ReferenceModel}.\n\n");
        text.Append("| model | accuracy | agreement | Facade magnitude share |\n|---|---|---|---|\n");
        foreach (var (model, accuracy) in Accuracy)
            text.Append(c, $"| {model} | {accuracy:F4} | {Agreement[model]:F4} | {(FacadeMagnitudeShare.TryGetValue(model, out var s) ? s.ToString("F4", c) : "")} |\n");
        text.Append("\n| model | method | target | P@1 | MRR | mean attribution | with target |\n|---|---|---|---|---|---|---|\n");
        foreach (var r in Rows)
            text.Append(c, $"| {r.Model} | {r.Method} | {r.Target} | {r.HitRate1:F4} | {r.MeanReciprocalRank:F4} | {r.MeanAttribution:F4} | {r.WithTarget}/{r.Count} |\n");
        return text.ToString();
    }
}
