using System.Text.Json;

namespace FacadeOnnx.Training.Loop;

/// <summary>
/// The part of an interrupted run that is not in the weights and optimizer files: how far it got, how long it took,
/// its best evaluation so far and every evaluation logged. The fingerprint ties it to the settings and data.
/// </summary>
public sealed record ResumeState
{
    public required string Fingerprint { get; init; }
    public long Step { get; init; }
    public double ElapsedSeconds { get; init; }
    public double? BestScore { get; init; }
    public bool BestEligible { get; init; }
    public long BestStep { get; init; }
    public List<Dictionary<string, double>> Evaluations { get; init; } = new();

    public const string Folder = ".resume";
    public const string StateFile = "state.json";
    public const string WeightsFile = "model.weights";
    public const string OptimizerFile = "optimizer.state";

    public string ToJson() => JsonSerializer.Serialize(this, Checkpoints.CheckpointManifest.Json);

    public static ResumeState? TryRead(string outputFolder)
    {
        string path = Path.Combine(outputFolder, Folder, StateFile);
        if (!File.Exists(path) || !File.Exists(Path.Combine(outputFolder, Folder, WeightsFile))) return null;
        try
        {
            return JsonSerializer.Deserialize<ResumeState>(File.ReadAllText(path), Checkpoints.CheckpointManifest.Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
