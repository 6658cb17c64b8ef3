using FacadeOnnx.Graph;
using FacadeOnnx.Graph.Building;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Import;
using FacadeOnnx.Text;
using FacadeOnnx.Training;
using FacadeOnnx.Training.Pretrained;
using FacadeOnnx.Training.Tests;
using Onnx;
using static TorchSharp.torch;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// `facade import` on a graph we did not build: the MiniLM package's own model.onnx (PyTorch's export, opset 13) with
/// a classification head appended here (the [CLS] row through a Gather, then MatMul and Add with seeded weights). It
/// imports without hints; its gradients are checked against TorchSharp autograd of the same encoder and head, and
/// against central finite differences of its own logits.
/// </summary>
[TestFixture]
public class ForeignImportTests
{
    const int Classes = 3;
    static readonly Lazy<(string Path, float[] Weight, float[] Bias)> Built = new(() =>
    {
        var model = OnnxFile.Parse(MiniLmPackage.ModelOnnxBytes(), "model.onnx");
        var random = new Random(5);
        int hidden = 384;
        float[] weight = Enumerable.Range(0, hidden * Classes).Select(_ => (float)(random.NextDouble() * 2 - 1) * 0.2f).ToArray();
        float[] bias = Enumerable.Range(0, Classes).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var b = new GraphBuilder(model) { Prefix = "head/" };
        string cls = b.Gather("last_hidden_state", b.Scalar(0, DataType.Int64), axis: 1);
        string scores = b.Named("scores", "Add", [b.MatMul(cls, b.Initializer("head.weight", weight, hidden, Classes)), b.Initializer("head.bias", bias, Classes)]);
        model.Graph.Output.Clear();
        b.Output(scores, "batch", (long)Classes);
        string path = Path.Combine(AuditModels.Folder, "minilm-head.onnx");
        OnnxFile.Write(model, path);
        return (path, weight, bias);
    });

    static readonly Lazy<string> Imported = new(() =>
    {
        string output = Path.Combine(AuditModels.Folder, "minilm-head.grad.onnx");
        ModelImport.ToFile(new ImportRequest { OnnxPath = Built.Value.Path, Tokenizer = WordPieceTokenizer.MiniLm(), Labels = ["a", "b", "c"] }, output);
        return output;
    });

    static GradientEngine Load() => GradientEngine.Load(Imported.Value, new EngineOptions { Log = TextWriter.Null });

    [Test]
    public void ImportsWithoutHints()
    {
        using var engine = Load();
        Assert.That(engine.Model.MaxPositions, Is.EqualTo(512), "position table found by structure");
        Assert.That(engine.Model.Hidden, Is.EqualTo(384));
        Assert.That(engine.Model.LabelNames, Is.EqualTo(new[] { "a", "b", "c" }));
    }

    [Test]
    public void GradientsMatchTorchSharpAutograd()
    {
        TorchRuntime.Initialize();
        using var engine = Load();
        var inputs = RealData.VariedSst2Dev(32).Select(e => engine.Encode(e.Text)).ToList();
        var (_, actual) = ImportTests.Run(engine, inputs);

        var model = MiniLmImport.Create(OnnxFile.Parse(MiniLmPackage.ModelOnnxBytes(), "model.onnx"), numLabels: 2);
        model.eval();
        var batch = Batch.FromInputs(inputs);
        long[] shape = [batch.Size, batch.SequenceLength];
        int h = 384;
        float[] expected;
        using (NewDisposeScope())
        {
            var e = model.embeddings.Lookup(tensor(batch.InputIds, shape)).detach().requires_grad_();
            var hidden = model.Encode(e, tensor(batch.AttentionMask, shape), tensor(batch.TokenTypeIds, shape));
            var logits = hidden.select(1, 0).matmul(tensor(Built.Value.Weight, [h, Classes])) + tensor(Built.Value.Bias, [Classes]);
            var loss = nn.functional.cross_entropy(logits, logits.argmax(1), reduction: nn.Reduction.Sum);
            var grad = autograd.grad([loss], [e])[0];
            // Padding rows of the batch carry no gradient in the engine's output: keep each sentence's own tokens.
            expected = Enumerable.Range(0, batch.Size)
                .SelectMany(i => grad[i].narrow(0, 0, batch.Lengths[i]).contiguous().data<float>().ToArray()).ToArray();
        }
        double scale = expected.Max(Math.Abs), diff = ImportTests.MaxAbsDiff(actual, expected);
        TestContext.Out.WriteLine($"imported MiniLM + head vs TorchSharp autograd: max diff {diff:E2}, largest |grad| {scale:E2}");
        Assert.That(diff, Is.LessThan(1e-4 * scale));
    }

    /// <summary>
    /// Central differences of the loss along random directions, in float32 (ONNX Runtime runs this graph in float32
    /// only): with a step of 1e-2 in a unit direction the truncation error is far below the rounding error of the
    /// loss (about 1e-7 relative, divided by the step), so 2% of the directional derivative is the tolerance.
    /// </summary>
    [Test]
    public void GradientsMatchCentralFiniteDifferences()
    {
        using var engine = Load();
        var random = new Random(9);
        foreach (var example in RealData.VariedSst2Dev(4))
        {
            var input = engine.Encode(example.Text);
            var clean = engine.Sample(input);
            int label = -1;
            float[] gradient = [];
            engine.Gradients([clean], (_, logits, g) => { label = Prediction.FromLogits(logits).Label; gradient = g.ToArray(); });
            for (int trial = 0; trial < 3; trial++)
            {
                double[] direction = Enumerable.Range(0, clean.Embeddings.Length).Select(_ => random.NextDouble() * 2 - 1).ToArray();
                double norm = Math.Sqrt(direction.Sum(v => v * v));
                const double step = 1e-2;
                double Loss(double sign)
                {
                    var moved = clean.Embeddings.Select((v, i) => (float)(v + sign * step * direction[i] / norm)).ToArray();
                    double loss = 0;
                    engine.Logits([clean with { Embeddings = moved }], (_, logits, _) =>
                    {
                        double max = logits.ToArray().Max();
                        loss = Math.Log(logits.ToArray().Sum(l => Math.Exp(l - max))) + max - logits[label];
                    });
                    return loss;
                }
                double numeric = (Loss(1) - Loss(-1)) / (2 * step);
                double analytic = gradient.Select((g, i) => g * direction[i] / norm).Sum();
                TestContext.Out.WriteLine($"directional derivative: finite differences {numeric:E4}, gradient {analytic:E4}");
                Assert.That(numeric, Is.EqualTo(analytic).Within(0.02 * Math.Abs(analytic) + 1e-5));
            }
        }
    }
}
