using FacadeOnnx.Graph;
using FacadeOnnx.Runtime.Import;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Export;
using FacadeOnnx.Training.Model;

namespace FacadeOnnx.Cli.Bench;

/// <summary>
/// The gradient models one bench of a checkpoint runs, as temporary files removed afterwards: the default export
/// (last layer pruned), the unpruned export, and optionally the model as `facade import` makes it from the
/// checkpoint's forward export, which is the path a foreign classifier takes.
/// </summary>
public sealed class BenchGraphs : IDisposable
{
    readonly List<string> _files = [];

    public string Pruned { get; }
    public string Unpruned { get; }
    public string? Imported { get; }

    public BenchGraphs(BertClassifier model, CheckpointManifest manifest, string folder, bool imported)
    {
        string name = Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/'));
        string Temp(string kind)
        {
            string path = Path.Combine(Path.GetTempPath(), $"facade-bench-{name}-{kind}-{Environment.ProcessId}.onnx");
            _files.Add(path);
            return path;
        }
        Pruned = Temp("pruned");
        OnnxFile.Write(BertOnnxExporter.Gradient(model, manifest, folder), Pruned);
        Unpruned = Temp("unpruned");
        OnnxFile.Write(BertOnnxExporter.Gradient(model, manifest, folder, new ExportOptions { PruneLastLayer = false }), Unpruned);
        if (!imported) return;
        string forward = Temp("forward");
        OnnxFile.Write(BertOnnxExporter.Forward(model, manifest, folder), forward);
        Imported = Temp("imported");
        ModelImport.ToFile(new ImportRequest { OnnxPath = forward, Source = folder }, Imported);
    }

    public void Dispose()
    {
        foreach (string file in _files) File.Delete(file);
    }
}
