using FacadeOnnx.Training.Model;

namespace FacadeOnnx.Training.Checkpoints;

/// <summary>
/// A checkpoint folder: model.weights (TorchSharp's parameter format) and manifest.json, which records the weights'
/// hash. Both are written atomically, weights first, so a folder whose manifest matches its weights is complete.
/// </summary>
public static class Checkpoint
{
    public const string WeightsFile = "model.weights";
    public const string ManifestFile = "manifest.json";

    public static void Save(BertClassifier model, CheckpointManifest manifest, string folder)
    {
        Directory.CreateDirectory(folder);
        string weights = Path.Combine(folder, WeightsFile);
        AtomicFile.WriteVia(weights, path => model.save(path));
        var complete = manifest with { Config = model.Config, WeightsSha256 = Hashing.Sha256File(weights) };
        AtomicFile.WriteAllText(Path.Combine(folder, ManifestFile), complete.ToJson());
    }

    public static CheckpointManifest ReadManifest(string folder)
    {
        string manifestPath = Path.Combine(folder, ManifestFile);
        if (!Directory.Exists(folder))
            throw new FacadeException($"Checkpoint folder '{folder}' does not exist.");
        if (!File.Exists(manifestPath) || !File.Exists(Path.Combine(folder, WeightsFile)))
            throw new FacadeException(
                $"'{folder}' is not a checkpoint folder: expected {ManifestFile} and {WeightsFile} " +
                "(written by `facade train`, `facade train-facade`, `facade regularize` or `facade merge`).");
        return CheckpointManifest.FromJson(File.ReadAllText(manifestPath), manifestPath);
    }

    /// <param name="dropout">the dropout the loaded model trains with (null: its manifest's); a checkpoint's weights do not
    /// depend on it</param>
    public static (BertClassifier Model, CheckpointManifest Manifest) Load(string folder, double? dropout = null)
    {
        var manifest = ReadManifest(folder);
        string weights = Path.Combine(folder, WeightsFile);
        if (manifest.WeightsSha256 != null && Hashing.Sha256File(weights) != manifest.WeightsSha256)
            throw new FacadeException($"'{weights}' does not match the hash recorded in {ManifestFile}; the checkpoint is incomplete or was modified.");
        TorchRuntime.Initialize();
        var model = new BertClassifier(dropout is double p ? manifest.Config with { Dropout = p } : manifest.Config);
        try
        {
            model.load(weights);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or EndOfStreamException)
        {
            throw new FacadeException($"Cannot load '{weights}' into a model of the manifest's config: {e.Message}", e);
        }
        model.eval();
        return (model, manifest);
    }

    public static bool Exists(string folder) =>
        File.Exists(Path.Combine(folder, ManifestFile)) && File.Exists(Path.Combine(folder, WeightsFile));
}
