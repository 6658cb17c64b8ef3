using FacadeOnnx.Graph.Autodiff;
using FacadeOnnx.Graph.Building;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Graph.Tests;

/// <summary>
/// What <see cref="GradientExport.Apply"/> refuses, before it changes the model: opsets outside 11..21, ONNX Runtime's
/// fused transformer operators, quantized graphs, and operators without a rule; each message names the node, the
/// operator and its domain, and what to do instead.
/// </summary>
[TestFixture]
public class GradientRefusalTests
{
    const string Embeds = "embeds", Logits = "logits";

    /// <summary>
    /// ids -> Gather (the word embeddings) -> [middle] -> mean over the sequence -> MatMul -> logits. The middle step
    /// receives the builder and the embeddings and returns what the mean reads.
    /// </summary>
    static ModelProto Classifier(Func<GraphBuilder, string, string>? middle = null, int opset = 13)
    {
        var model = GraphBuilder.NewModel("classifier", opset);
        var b = new GraphBuilder(model);
        b.Input("ids", DataType.Int64, "batch", "sequence");
        string table = b.Initializer("word_embeddings", new float[40], 10, 4);
        string embeds = b.Named(Embeds, "Gather", [table, "ids"]);
        string hidden = middle?.Invoke(b, embeds) ?? embeds;
        string pooled = b.ReduceMean(hidden, [1], keepDims: false);
        b.Named(Logits, "MatMul", [pooled, b.Initializer("classifier", new float[8], 4, 2)]);
        b.Output(Logits, "batch", 2L);
        return model;
    }

    /// <summary>Adds a node of any domain (the builder writes ai.onnx nodes only) and returns its output.</summary>
    static string Foreign(GraphBuilder b, string op, string domain, params string[] inputs)
    {
        if (domain != "" && b.Model.OpsetImport.All(o => o.Domain != domain))
            b.Model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = 1 });
        var node = new NodeProto { OpType = op, Domain = domain, Name = "suspect", Output = { "suspect_out" } };
        node.Input.AddRange(inputs);
        b.Graph.Node.Add(node);
        b.Shapes.Infer(node);
        return node.Output[0];
    }

    /// <summary>The refusal's message, after checking the model was left as it was.</summary>
    static string Refusal(ModelProto model)
    {
        var before = model.Clone();
        var error = Assert.Throws<FacadeException>(() => GradientExport.Apply(model, Embeds, new GradientObjective.CrossEntropy(Logits)));
        Assert.That(model, Is.EqualTo(before), "refused before any change to the model");
        return error!.Message;
    }

    [Test]
    public void ASupportedClassifierIsNotRefused() =>
        Assert.DoesNotThrow(() => GradientExport.Apply(Classifier(opset: 11), Embeds, new GradientObjective.CrossEntropy(Logits)));

    [TestCase(10)]
    [TestCase(22)]
    public void OpsetsOutsideElevenToTwentyOneAreRefused(int opset)
    {
        var model = Classifier();
        model.OpsetImport.Single().Version = opset;
        Assert.That(Refusal(model), Does.Contain($"opset {opset}").And.Contain("opsets 11 to 21"));
    }

    [TestCase("EmbedLayerNormalization")]
    [TestCase("Attention")]
    [TestCase("SkipLayerNormalization")]
    [TestCase("BiasGelu")]
    [TestCase("FastGelu")]
    [TestCase("FusedMatMul")]
    [TestCase("LayerNormalization")]
    public void FusedTransformerOperatorsAreRefused(string op)
    {
        var model = Classifier((b, x) => Foreign(b, op, "com.microsoft", x));
        Assert.That(Refusal(model), Does.Contain($"node 'suspect' ({op}) (domain 'com.microsoft')")
            .And.Contain("Export without the transformer optimizations").And.Contain("--optimize"));
    }

    [Test]
    public void OptimizerLayerNormalizationInADefaultDomainWithoutItIsRefused()
    {
        var model = Classifier((b, x) => Foreign(b, "LayerNormalization", "", x), opset: 13);
        Assert.That(Refusal(model), Does.Contain("node 'suspect' (LayerNormalization) (domain 'ai.onnx')")
            .And.Contain("from opset 17; this model imports 13").And.Contain("without the transformer optimizations"));
    }

    [Test]
    public void AFusedEmbeddingIsNamedRatherThanTheMissingCut()
    {
        // EmbedLayerNormalization swallows the lookup: the tensor to cut at no longer exists.
        var model = GraphBuilder.NewModel("fused", 13);
        var b = new GraphBuilder(model);
        b.Input("ids", DataType.Int64, "batch", "sequence");
        string hidden = Foreign(b, "EmbedLayerNormalization", "com.microsoft", "ids", b.Initializer("word_embeddings", new float[40], 10, 4));
        b.Named(Logits, "MatMul", [b.ReduceMean(hidden, [1], keepDims: false), b.Initializer("classifier", new float[8], 4, 2)]);
        b.Output(Logits, "batch", 2L);
        Assert.That(Refusal(model), Does.Contain("node 'suspect' (EmbedLayerNormalization)").And.Contain("transformer optimizations"));
    }

    [Test]
    public void AQuantizedEmbeddingIsRefused()
    {
        var model = GraphBuilder.NewModel("quantized", 13);
        var b = new GraphBuilder(model);
        b.Input("ids", DataType.Int64, "batch", "sequence");
        var int8 = new TensorProto { Name = "word_embeddings_quantized", DataType = (int)DataType.Int8, RawData = Google.Protobuf.ByteString.CopyFrom(new byte[40]) };
        int8.Dims.AddRange([10, 4]);
        string table = b.Named("word_embeddings", "DequantizeLinear", [b.Initializer(int8), b.Scalar(0.1, DataType.Float)]);
        b.Graph.Node[^1].Name = "dequantize_embeddings";
        string embeds = b.Named(Embeds, "Gather", [table, "ids"]);
        b.Named(Logits, "MatMul", [b.ReduceMean(embeds, [1], keepDims: false), b.Initializer("classifier", new float[8], 4, 2)]);
        b.Output(Logits, "batch", 2L);
        Assert.That(Refusal(model), Does.Contain("node 'dequantize_embeddings' (DequantizeLinear)").And.Contain("float model"));
    }

    [TestCase("MatMulInteger", "")]
    [TestCase("QLinearMatMul", "")]
    [TestCase("DynamicQuantizeLinear", "")]
    [TestCase("DynamicQuantizeMatMul", "com.microsoft")]
    public void QuantizedOperatorsAreRefused(string op, string domain)
    {
        var model = Classifier((b, x) => Foreign(b, op, domain, x));
        Assert.That(Refusal(model), Does.Contain($"node 'suspect' ({op})").And.Contain("quantized").And.Contain("float model"));
    }

    [TestCase("Cos", "", "ai.onnx")]
    [TestCase("Mystery", "com.example", "com.example")]
    public void OperatorsWithoutARuleAreRefusedNamingNodeOperatorDomainAndRules(string op, string domain, string shownDomain)
    {
        var model = Classifier((b, x) => Foreign(b, op, domain, x));
        Assert.That(Refusal(model), Does.Contain($"operator '{op}' (domain '{shownDomain}') at node 'suspect'")
            .And.Contain($"between '{Embeds}' and '{Logits}'").And.Contain("Rules exist for: Add"));
    }
}
