using FacadeOnnx.Graph;
using FacadeOnnx.Graph.Autodiff;
using FacadeOnnx.Graph.Checking;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Export;
using FacadeOnnx.Training.Model;
using Onnx;
using Contract = FacadeOnnx.Graph.Contract.GradientModelContract;

namespace FacadeOnnx.Training.Tests;

/// <summary>
/// `export-grad` on old-opset models of known gradients: a tiny model exported as a forward model at opset 11 (axes and
/// split sizes as attributes, LayerNormalization and Gelu written out, Softmax in its 2-D form), at opset 16 (the
/// newest without LayerNormalization: the same written-out operators, the opset-13 forms) and at opset 21, each written
/// to a file, read back and differentiated by <see cref="GradientExport.Apply"/> at the word-embedding lookup.
/// </summary>
[TestFixture]
public class OldOpsetGradientTests
{
    string _folder = "";

    [SetUp]
    public void CreateFolder() => Directory.CreateDirectory(_folder = Path.Combine(Path.GetTempPath(), "facade-opset-" + Guid.NewGuid().ToString("N")[..8]));

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    /// <summary>The forward export at <paramref name="opset"/> through a file, then the gradient graph through a file, each checked.</summary>
    ModelProto DifferentiatedForwardExport(BertClassifier model, int opset)
    {
        string forwardPath = Path.Combine(_folder, $"forward-{opset}.onnx"), gradientPath = Path.Combine(_folder, $"gradient-{opset}.onnx");
        OnnxFile.Write(BertOnnxExporter.Forward(model, TinyModels.Manifest(model), options: new ExportOptions { Opset = opset }), forwardPath);
        Assert.That(ModelChecker.Check(OnnxFile.Read(forwardPath)), Is.Empty, $"forward model at opset {opset}");
        GradientExport.ApplyToFile(forwardPath, gradientPath, Contract.InputsEmbeds, new GradientObjective.CrossEntropy(Contract.Logits));
        var gradient = OnnxFile.Read(gradientPath);
        Assert.That(ModelChecker.Check(gradient), Is.Empty, $"gradient model at opset {opset}");
        Assert.That(gradient.OpsetImport.Single().Version, Is.EqualTo(opset), "the backward pass keeps the model's opset");
        return gradient;
    }

    static float[] Gradient(ModelProto onnx, Batch batch, float[] embeds, int hidden)
    {
        long[] shape = [batch.Size, batch.SequenceLength];
        using var session = new OrtSession(onnx);
        return session.Run(new()
        {
            [Contract.InputsEmbeds] = (embeds, [batch.Size, batch.SequenceLength, hidden]),
            [Contract.AttentionMask] = (batch.AttentionMask, shape),
            [Contract.TokenTypeIds] = (batch.TokenTypeIds, shape),
            [Contract.Target] = (Enumerable.Repeat(-1L, batch.Size).ToArray(), [batch.Size]),
        }, Contract.InputsEmbedsGrad)[Contract.InputsEmbedsGrad];
    }

    [Test]
    public void ForwardExportsAtOpset11And21DifferentiateToTheSameGradient()
    {
        var model = TinyModels.Create(seed: 11);
        var tokenizer = WordPieceTokenizer.MiniLm();
        var batch = Batch.FromInputs(RealData.VariedSst2Dev(16).Select(e => tokenizer.Encode(e.Text, maxLength: 128)).ToList());
        var (_, torchGrad, embeds) = ExportParityTests.TorchReference(model, batch);
        int hidden = model.Config.Hidden;

        var old = DifferentiatedForwardExport(model, 11);
        Assert.That(old.Graph.Node.Select(n => n.OpType), Has.None.EqualTo("LayerNormalization").And.None.EqualTo("Gelu"),
            "opset 11 has neither operator");
        float[] oldGrad = Gradient(old, batch, embeds, hidden);
        float[] formsGrad = Gradient(DifferentiatedForwardExport(model, 16), batch, embeds, hidden);
        float[] newGrad = Gradient(DifferentiatedForwardExport(model, 21), batch, embeds, hidden);
        float[] directGrad = Gradient(BertOnnxExporter.Gradient(model, TinyModels.Manifest(model)), batch, embeds, hidden);

        double scale = torchGrad.Max(Math.Abs);
        double oldVsForms = ExportParityTests.MaxAbsDiff(oldGrad, formsGrad);
        double oldVsNew = ExportParityTests.MaxAbsDiff(oldGrad, newGrad), newVsDirect = ExportParityTests.MaxAbsDiff(newGrad, directGrad);
        double oldVsTorch = ExportParityTests.MaxAbsDiff(oldGrad, torchGrad), newVsTorch = ExportParityTests.MaxAbsDiff(newGrad, torchGrad);
        TestContext.Out.WriteLine($"largest |grad| {scale:E2}; max diff opset 11 vs 16 {oldVsForms:E2}, opset 11 vs 21 {oldVsNew:E2}, opset 21 vs direct gradient export " +
                                  $"{newVsDirect:E2}, opset 11 vs TorchSharp {oldVsTorch:E2}, opset 21 vs TorchSharp {newVsTorch:E2}");
        Assert.That(scale, Is.GreaterThan(0));
        // Opsets 11 and 16 write the same arithmetic in different forms (attribute or input axes, 2-D or per-axis Softmax,
        // Where or Min on integers): 1e-6 leaves room for nothing but a reordered float32 sum.
        Assert.That(oldVsForms, Is.LessThan(1e-6), "opset 11 against opset 16");
        // Opset 21 computes LayerNormalization and Gelu in single kernels, which round differently from the written-out
        // operators in float32: 1e-5 of the largest component, the size of float32 rounding through two layers (the
        // opset-21 graph itself differs from TorchSharp by about as much).
        Assert.That(oldVsNew, Is.LessThan(1e-5 * scale), "opset 11 against opset 21");
        // The same graph as the exporter's own gradient model, up to node names.
        Assert.That(newVsDirect, Is.LessThan(1e-6), "opset 21 against the direct gradient export");
        // Float32 ONNX Runtime against float32 TorchSharp, as in ExportParityTests.
        Assert.That(oldVsTorch, Is.LessThan(1e-4 * scale), "opset 11 against TorchSharp autograd");
        Assert.That(newVsTorch, Is.LessThan(1e-4 * scale), "opset 21 against TorchSharp autograd");
    }
}
