using FacadeOnnx.Graph;
using FacadeOnnx.Graph.Building;
using FacadeOnnx.Runtime.Engine;
using Onnx;
using Contract = FacadeOnnx.Graph.Contract.GradientModelContract;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// Loading reads the file once (hash, parse and session from the same bytes, the parsed graph kept for the audit), and
/// the memory estimate's layers, heads and feed-forward width come from the graph, agreeing with our exporter's metadata.
/// </summary>
[TestFixture]
public class ModelLoadTests
{
    static IEnumerable<string> Models() => [.. AuditModels.Clean, .. AuditModels.Merged];

    static string Path_(string name) => name == "tiny" ? TinyEngine.GradientPath : AuditModels.PathOf(name);

    [TestCase("tiny")]
    [TestCaseSource(nameof(Models))]
    public void TheGraphGivesTheDimensionsTheMetadataDeclares(string name)
    {
        var log = new StringWriter();
        using var engine = GradientEngine.Load(Path_(name), new EngineOptions { Log = log });
        var metadata = engine.Model.Metadata;
        var declared = new ModelDimensions(int.Parse(metadata[Contract.Keys.Layers]), int.Parse(metadata[Contract.Keys.Heads]), int.Parse(metadata[Contract.Keys.Intermediate]));
        Assert.That(engine.Dimensions, Is.EqualTo(declared));
        Assert.That(log.ToString(), Is.Empty);
        // Both ways to the heads agree on our exports.
        var forward = GraphPruning.KeepOutputs(engine.Graph, Contract.Logits);
        Assert.That(ModelDimensions.HeadsFromScores(forward, ModelDimensions.AttentionSoftmaxes(forward.Graph)), Is.EqualTo(declared.Heads));
        Assert.That(ModelDimensions.HeadsFromReshapes(forward.Graph, engine.Hidden), Is.EqualTo(declared.Heads));
    }

    [TestCaseSource(nameof(Models))]
    public void WithoutTheMetadataTheBatchesAreTheSame(string name)
    {
        string stripped = Rewrite(Path_(name), $"{name}-no-dimensions", model => RemoveMetadata(model, Contract.Keys.Layers, Contract.Keys.Heads, Contract.Keys.Intermediate));
        var options = new EngineOptions { MemoryBudget = 8L << 20, Log = TextWriter.Null };
        using var original = GradientEngine.Load(Path_(name), options);
        using var bare = GradientEngine.Load(stripped, options);
        Assert.That(bare.Dimensions, Is.EqualTo(original.Dimensions));
        foreach (int length in new[] { 1, 16, 64, 128, 256, 512 })
            Assert.That(bare.SamplesPerRun(length), Is.EqualTo(original.SamplesPerRun(length)), $"length {length}");
    }

    [Test]
    public void MetadataThatContradictsTheGraphIsOverruledWithANote()
    {
        string wrong = Rewrite(Path_("target-a"), "target-a-wrong-layers", model => model.Set(Contract.Keys.Layers, "12"));
        var log = new StringWriter();
        using var engine = GradientEngine.Load(wrong, new EngineOptions { Log = log });
        Assert.That(engine.Dimensions.Layers, Is.EqualTo(2));
        Assert.That(log.ToString(), Does.Contain("declares 12 layers").And.Contain("uses 2"));
    }

    [Test]
    public void AModelWhoseLayersNeitherGraphNorMetadataTellIsRefused()
    {
        // LogSoftmax attention: ONNX Runtime would run it, but it is no attention Softmax, and no facade.layers says more.
        string odd = Rewrite(Path_("target-a"), "target-a-no-layers", model =>
        {
            RemoveMetadata(model, Contract.Keys.Layers);
            foreach (var node in model.Graph.Node.Where(n => n.OpType == "Softmax")) node.OpType = "LogSoftmax";
        });
        var error = Assert.Throws<FacadeException>(() => GradientEngine.Load(odd, new EngineOptions { Log = TextWriter.Null }));
        Assert.That(error!.Message, Does.Contain("layers").And.Contain(Contract.Keys.Layers));
    }

    [Test]
    public void TheFileIsHashedAndItsGraphKept()
    {
        string path = Path_("target-b");
        using var engine = GradientEngine.Load(path, new EngineOptions { Log = TextWriter.Null });
        Assert.That(engine.Model.Sha256, Is.EqualTo(Hashing.Sha256File(path)));
        Assert.That(engine.Graph, Is.SameAs(engine.Model.Graph));
        Assert.That(engine.Graph, Is.EqualTo(OnnxFile.Read(path)), "the graph kept is the file's, untouched by the forward pruning");
    }

    static void RemoveMetadata(ModelProto model, params string[] keys)
    {
        foreach (var entry in model.MetadataProps.Where(p => keys.Contains(p.Key)).ToList()) model.MetadataProps.Remove(entry);
    }

    static string Rewrite(string path, string name, Action<ModelProto> change)
    {
        var model = OnnxFile.Read(path);
        change(model);
        string result = Path.Combine(AuditModels.Folder, name + ".onnx");
        OnnxFile.Write(model, result);
        return result;
    }
}
