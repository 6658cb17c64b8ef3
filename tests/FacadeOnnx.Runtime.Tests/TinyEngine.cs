using FacadeOnnx.Graph;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Export;
using FacadeOnnx.Training.Model;
using FacadeOnnx.Training.Tests;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// A tiny random BERT exported as a gradient model (and as a forward model), written once per test run to a temporary
/// folder, with real SST-2 dev sentences encoded for it.
/// </summary>
public static class TinyEngine
{
    static readonly Lazy<(BertClassifier Model, string Folder)> Built = new(() =>
    {
        var model = TinyModels.Create(seed: 11);
        string folder = Path.Combine(Path.GetTempPath(), "facade-runtime-tests-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        var manifest = TinyModels.Manifest(model);
        OnnxFile.Write(BertOnnxExporter.Gradient(model, manifest), Path.Combine(folder, "tiny-grad.onnx"));
        OnnxFile.Write(BertOnnxExporter.Forward(model, manifest), Path.Combine(folder, "tiny-forward.onnx"));
        return (model, folder);
    });

    public static BertClassifier Model => Built.Value.Model;
    public static string GradientPath => Path.Combine(Built.Value.Folder, "tiny-grad.onnx");
    public static string ForwardPath => Path.Combine(Built.Value.Folder, "tiny-forward.onnx");
    public static string Folder => Built.Value.Folder;

    public static GradientEngine Load(int batchBudget = 64) => GradientEngine.Load(GradientPath, new EngineOptions { BatchBudget = batchBudget, Log = TextWriter.Null });

    public static IReadOnlyList<TokenizedInput> Sentences(int count) =>
        RealData.VariedSst2Dev(count).Select(e => WordPieceTokenizer.MiniLm().Encode(e.Text, maxLength: 128)).ToArray();
}
