using FacadeOnnx.Graph.Building;
using FacadeOnnx.Graph.Checking;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Graph.Tests;

/// <summary>The builder writes each opset's own form, and what it writes out for an older opset computes the same thing.</summary>
[TestFixture]
public class GraphBuilderOpsetTests
{
    static readonly float[] Gamma = [0.5f, 1.5f, -1f, 2f, 0.25f], Beta = [0.1f, -0.2f, 0.3f, 0f, 1f];

    static (ModelProto Model, string[] Outputs) NormAndGelu(int opset)
    {
        var model = GraphBuilder.NewModel("norm_gelu", opset);
        var b = new GraphBuilder(model);
        b.Input("x", DataType.Float, 3, 5);
        string norm = b.LayerNormalization("x", b.Initializer("gamma", Gamma, 5), b.Initializer("beta", Beta, 5), 1e-5f);
        string gelu = b.Gelu("x");
        b.Output(norm);
        b.Output(gelu);
        return (model, [norm, gelu]);
    }

    [Test]
    public void WrittenOutLayerNormalizationAndGeluMatchTheOperators()
    {
        var x = RuleHarness.Sample(new CaseInput("x", [3, 5]), new Random(5)).Select(v => (float)(2 * v)).ToArray();
        double[][] Run(int opset, bool written)
        {
            var (model, outputs) = NormAndGelu(opset);
            Assert.That(ModelChecker.Check(model), Is.Empty, $"opset {opset}");
            var ops = model.Graph.Node.Select(n => n.OpType).ToList();
            Assert.That(ops.Contains("LayerNormalization") || ops.Contains("Gelu"), Is.EqualTo(!written), $"operators at opset {opset}");
            using var session = new OrtHarness(model);
            var result = session.Run(new Dictionary<string, OrtHarness.Value> { ["x"] = new(x, [3, 5]) }, outputs);
            return outputs.Select(o => result[o]).ToArray();
        }
        var fused = Run(21, written: false);
        foreach (int opset in new[] { 11, 16 })
        {
            var written = Run(opset, written: true);
            // Float32 values of order 1: the two computations differ by a few rounding steps.
            for (int k = 0; k < 2; k++)
                Assert.That(written[k], Is.EqualTo(fused[k]).Within(1e-6), $"{(k == 0 ? "LayerNormalization" : "Gelu")} at opset {opset}");
        }
    }

    [Test]
    public void SoftmaxBeforeOpset13IsWrittenForTheLastAxisOnly()
    {
        GraphBuilder Builder(int opset)
        {
            var b = new GraphBuilder(GraphBuilder.NewModel("softmax", opset));
            b.Input("x", DataType.Float, 2, 3, 4);
            return b;
        }
        Assert.DoesNotThrow(() => Builder(11).Softmax("x", -1));
        Assert.DoesNotThrow(() => Builder(11).Softmax("x", 2));
        Assert.DoesNotThrow(() => Builder(13).Softmax("x", 1));
        var error = Assert.Throws<FacadeException>(() => Builder(12).Softmax("x", 1));
        Assert.That(error!.Message, Does.Contain("axis 1").And.Contain("opset 12"));
    }

    [TestCase(10)]
    [TestCase(22)]
    public void ModelsOutsideOpsets11To21AreNotBuilt(int opset) =>
        Assert.That(Assert.Throws<FacadeException>(() => GraphBuilder.NewModel("m", opset))!.Message, Does.Contain($"opset {opset}"));
}
