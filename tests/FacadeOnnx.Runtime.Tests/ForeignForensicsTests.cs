using FacadeOnnx.Graph;
using FacadeOnnx.Graph.Building;
using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Text;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// Structural forensics on graphs written the way other exporters write them: weights behind a Transpose node and
/// LayerNorm as the ReduceMean, Sub, Pow, Sqrt, Div chain. The merged model must still show its blocks, a clean
/// foreign graph none, and a graph with no readable weights must say so instead of passing for clean structure.
/// </summary>
[TestFixture]
public class ForeignForensicsTests
{
    [Test]
    public void AMergeRewrittenInOtherExportFormsStillShowsItsBlocks()
    {
        var plain = StructuralForensics.Analyze(OnnxFile.Read(AuditModels.ForwardPathOf("merged-zero")));
        var model = OnnxFile.Read(AuditModels.ForwardPathOf("merged-zero"));
        int transposed = WeightsBehindTranspose(model);
        int decomposed = DecomposeLayerNorms(model);
        Assert.That(transposed, Is.GreaterThanOrEqualTo(10));
        Assert.That(decomposed, Is.GreaterThan(4));
        Assert.That(model.Graph.Node.Any(n => n.OpType == "LayerNormalization"), Is.False);

        var rewritten = StructuralForensics.Analyze(model);
        TestContext.Out.WriteLine($"plain: {plain.BlockStructured}/{plain.WeightMatrices} blocky, {plain.SplitLayerNorms} split norms, {plain.LogitParts} parts; " +
                                  $"rewritten: {rewritten.BlockStructured}/{rewritten.WeightMatrices}, {rewritten.SplitLayerNorms}, {rewritten.LogitParts}");
        Assert.That(rewritten.WeightMatrices, Is.EqualTo(plain.WeightMatrices));
        Assert.That(rewritten.BlockStructured, Is.EqualTo(plain.BlockStructured));
        Assert.That(rewritten.SplitLayerNorms, Is.EqualTo(plain.SplitLayerNorms));
        Assert.That(rewritten.LogitParts, Is.EqualTo(plain.LogitParts).And.GreaterThanOrEqualTo(2));
    }

    [Test]
    public void TheMiniLmPackageGraphShowsNoMerge()
    {
        var evidence = StructuralForensics.Analyze(OnnxFile.Parse(MiniLmPackage.ModelOnnxBytes(), "model.onnx"));
        Assert.That(evidence.Readable, Is.True);
        Assert.That(evidence.WeightMatrices, Is.GreaterThanOrEqualTo(36), "6 layers x (Q, K, V, output, 2 FFN)");
        Assert.That(evidence.BlockStructured, Is.Zero);
        Assert.That(evidence.SplitLayerNorms, Is.Zero);
    }

    [Test]
    public void AGraphWithoutReadableWeightsIsNotApplicable()
    {
        var model = OnnxFile.Read(AuditModels.ForwardPathOf("merged-zero"));
        foreach (var weight in model.Graph.Initializer.Where(t => t.Dims.Count == 2 && t.Dims[0] < 10000).ToList())
        {
            model.Graph.Initializer.Remove(weight);
            model.Graph.Input.Add(GraphBuilder.ValueInfo(weight.Name, DataType.Float, weight.Dims.Select(d => (object)d).ToArray()));
        }
        var evidence = StructuralForensics.Analyze(model);
        Assert.That(evidence.Readable, Is.False);
        Assert.That(evidence.Findings, Has.Some.Contains("not applicable"));
        var verdict = ManipulationVerdict.Decide(evidence, new BehaviouralSignals(0.5, 0.5, 0.01, 0.01, 0.01, 10), new VerdictThresholds());
        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Trusted));
        Assert.That(verdict.Reasons, Has.Some.Contains("not applicable"));
    }

    /// <summary>Every MatMul weight W becomes Transpose(W^T), as exports that keep PyTorch's [out, in] layout write it.</summary>
    static int WeightsBehindTranspose(ModelProto model)
    {
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name);
        int count = 0;
        var b = new GraphBuilder(model) { Prefix = "t/" };
        foreach (var node in model.Graph.Node.Where(n => n.OpType == "MatMul").ToList())
        {
            if (!initializers.TryGetValue(node.Input[1], out var w) || w.Dims.Count != 2) continue;
            int rows = (int)w.Dims[0], cols = (int)w.Dims[1];
            var values = Tensors.ToFloats(w);
            var flipped = new float[values.Length];
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) flipped[c * rows + r] = values[r * cols + c];
            string stored = b.Initializer(w.Name + ".T", flipped, cols, rows);
            node.Input[1] = b.Transpose(stored, 1, 0);
            count++;
        }
        // The Transpose nodes were appended; move them before their readers so the graph stays in topological order.
        var nodes = model.Graph.Node.ToList();
        model.Graph.Node.Clear();
        model.Graph.Node.AddRange(nodes.Where(n => n.OpType == "Transpose" && n.Name.StartsWith("t/")).Concat(nodes.Where(n => !(n.OpType == "Transpose" && n.Name.StartsWith("t/")))));
        return count;
    }

    /// <summary>Each LayerNormalization becomes mean, centre, variance, sqrt, divide, scale and shift.</summary>
    static int DecomposeLayerNorms(ModelProto model)
    {
        int count = 0;
        var nodes = model.Graph.Node.ToList();
        model.Graph.Node.Clear();
        var b = new GraphBuilder(model) { Prefix = "ln/" };
        foreach (var node in nodes)
        {
            if (node.OpType != "LayerNormalization") { model.Graph.Node.Add(node); continue; }
            string x = node.Input[0];
            float epsilon = node.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
            string centred = b.Sub(x, b.ReduceMean(x, [-1], keepDims: true));
            string variance = b.ReduceMean(b.Op("Pow", [centred, b.Scalar(2, DataType.Float)]), [-1], keepDims: true);
            string normed = b.Div(centred, b.Sqrt(b.Add(variance, b.Scalar(epsilon, DataType.Float))));
            b.Named(node.Output[0], "Add", [b.Mul(normed, node.Input[1]), node.Input[2]]);
            count++;
        }
        return count;
    }
}
