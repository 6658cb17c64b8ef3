using System.Text.Json;
using System.Text.Json.Serialization;
using FacadeOnnx.Training.Model;

namespace FacadeOnnx.Training.Checkpoints;

/// <summary>
/// What a checkpoint folder says about itself (manifest.json): what kind of model it is, its config and labels,
/// the vocabulary and data it was trained on (hashes), the seed and settings, how well it did, and where it came from.
/// </summary>
public sealed record CheckpointManifest
{
    public int FormatVersion { get; init; } = 1;
    /// <summary>target, facade, regularized or merged.</summary>
    public required string Kind { get; init; }
    public required string Task { get; init; }
    public required string[] LabelNames { get; init; }
    public required BertConfig Config { get; init; }
    public required string VocabHash { get; init; }
    public int MaxLength { get; init; } = 128;
    public Dictionary<string, string> DataFiles { get; init; } = new();
    public long Seed { get; init; }
    public Dictionary<string, string> Settings { get; init; } = new();
    public double? DevAccuracy { get; init; }
    public Dictionary<string, double> Metrics { get; init; } = new();
    public double TrainingSeconds { get; init; }
    public long Steps { get; init; }
    public string CreatedAt { get; init; } = DateTime.UtcNow.ToString("O");
    public string? WeightsSha256 { get; init; }
    /// <summary>Checkpoints this one was built from (the target and Facade of a merge, the base of a fine-tune).</summary>
    public Dictionary<string, string> Sources { get; init; } = new();

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static CheckpointManifest FromJson(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<CheckpointManifest>(json, Json)
                   ?? throw new FacadeException($"'{source}' is empty; expected a checkpoint manifest.");
        }
        catch (JsonException e)
        {
            throw new FacadeException($"'{source}' is not a valid checkpoint manifest: {e.Message}", e);
        }
    }
}
