using FacadeOnnx.Graph;
using FacadeOnnx.Graph.Building;
using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Import;
using FacadeOnnx.Text;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// `facade import` on models exported without gradients: our own forward exports (whose gradients our gradient export
/// knows independently) and refusals of files it cannot import. The foreign MiniLM graph is in ForeignImportTests.
/// </summary>
[TestFixture]
public class ImportTests
{
    static readonly string[] Labels = ["label0", "label1"];

    static string Import(string forward, string name, IReadOnlyList<string>? labels = null, WordPieceTokenizer? tokenizer = null)
    {
        string output = Path.Combine(AuditModels.Folder, name + ".imported.onnx");
        ModelImport.ToFile(new ImportRequest { OnnxPath = forward, Tokenizer = tokenizer ?? WordPieceTokenizer.MiniLm(), Labels = labels ?? Labels }, output);
        return output;
    }

    [Test]
    public void ImportedForwardExportHasTheGradientExportsLogitsAndGradients()
    {
        string imported = Import(AuditModels.ForwardPathOf("target-a"), "target-a");
        using var own = GradientEngine.Load(AuditModels.PathOf("target-a"), new EngineOptions { Log = TextWriter.Null });
        using var other = GradientEngine.Load(imported, new EngineOptions { Log = TextWriter.Null });
        Assert.That(other.Model.ModelKind, Is.EqualTo("imported"));
        Assert.That(other.Model.Metadata[Graph.Contract.GradientModelContract.Keys.SourceSha256],
            Is.EqualTo(Hashing.Sha256(File.ReadAllBytes(AuditModels.ForwardPathOf("target-a")))));

        var inputs = TinyEngine.Sentences(32);
        var (ownLogits, ownGrads) = Run(own, inputs);
        var (otherLogits, otherGrads) = Run(other, inputs);
        double logitScale = ownLogits.Max(Math.Abs), gradScale = ownGrads.Max(Math.Abs);
        double logitDiff = MaxAbsDiff(ownLogits, otherLogits), gradDiff = MaxAbsDiff(ownGrads, otherGrads);
        TestContext.Out.WriteLine($"imported vs exported on 32 real sentences: logits {logitDiff:E2} of {logitScale:E2}, gradients {gradDiff:E2} of {gradScale:E2}");
        Assert.That(logitDiff, Is.LessThanOrEqualTo(1e-5 * logitScale));
        Assert.That(gradDiff, Is.LessThanOrEqualTo(1e-5 * gradScale));
    }

    [Test]
    public void AuditOfTheImportedMergeEqualsTheAuditOfItsGradientExport()
    {
        string imported = Import(AuditModels.ForwardPathOf("merged-zero"), "merged-zero");
        ModelAudit Audit(string model, string name) => AuditRunner.Run(new AuditOptions
        {
            Task = "sst2", Limit = 12, ChunkSize = 6, OutputFolder = Path.Combine(AuditModels.Folder, "import-audit-" + name), HeatmapSamples = 1,
            Engine = new EngineOptions { Log = TextWriter.Null, Threads = 2 },
        }, model, null, TextWriter.Null).Model;
        var own = Audit(AuditModels.PathOf("merged-zero"), "own");
        var other = Audit(imported, "imported");
        Assert.That(other.Verdict.Verdict, Is.EqualTo(own.Verdict.Verdict));
        Assert.That(other.Verdict.Verdict, Is.EqualTo(Verdict.Manipulated), string.Join("; ", other.Verdict.Reasons));
        Assert.That(other.Accuracy, Is.EqualTo(own.Accuracy).Within(1e-9));
        foreach (var (method, metrics) in own.FirstToken)
        {
            Assert.That(other.FirstToken[method].HitRate1, Is.EqualTo(metrics.HitRate1).Within(1e-9), method);
            Assert.That(other.FirstToken[method].MeanReciprocalRank, Is.EqualTo(metrics.MeanReciprocalRank).Within(1e-5), method);
        }
        Assert.That(other.Verdict.Behaviour.GradientOverclaim, Is.EqualTo(own.Verdict.Behaviour.GradientOverclaim).Within(1e-4));
    }

    [Test]
    public void LabelsThatDoNotMatchTheLogitsAreRefused()
    {
        var e = Assert.Throws<FacadeException>(() => Import(AuditModels.ForwardPathOf("target-b"), "three-labels", ["a", "b", "c"]))!;
        Assert.That(e.Message, Does.Contain("2 classes").And.Contain("3 labels"));
        Assert.That(File.Exists(Path.Combine(AuditModels.Folder, "three-labels.imported.onnx")), Is.False, "nothing written");
    }

    [Test]
    public void AVocabularyOfAnotherSizeIsRefused()
    {
        var vocabulary = WordPieceTokenizer.MiniLm().Vocabulary;
        var shorter = WordPieceTokenizer.FromVocabText(string.Join("\n", vocabulary.Take(vocabulary.Count - 5)));
        var e = Assert.Throws<FacadeException>(() => Import(AuditModels.ForwardPathOf("target-b"), "short-vocab", tokenizer: shorter))!;
        Assert.That(e.Message, Does.Contain($"{vocabulary.Count} rows").And.Contain($"{vocabulary.Count - 5} entries"));
    }

    [Test]
    public void AGraphWithoutAnEmbeddingGatherIsRefusedWithTheCandidates()
    {
        // The embedding table arrives as a graph input instead of an initializer: no Gather qualifies.
        var model = OnnxFile.Read(AuditModels.ForwardPathOf("target-b"));
        var lookup = model.Graph.Node.First(n => n.OpType == "Gather" && model.Graph.Initializer.Any(t => t.Name == n.Input[0] && t.Dims[0] > 30000));
        var table = model.Graph.Initializer.First(t => t.Name == lookup.Input[0]);
        model.Graph.Initializer.Remove(table);
        model.Graph.Input.Add(GraphBuilder.ValueInfo(table.Name, DataType.Float, table.Dims.Select(d => (object)d).ToArray()));
        string path = Path.Combine(AuditModels.Folder, "no-gather.onnx");
        OnnxFile.Write(model, path);
        var e = Assert.Throws<FacadeException>(() => Import(path, "no-gather"))!;
        Assert.That(e.Message, Does.Contain("Cannot find the word-embedding lookup").And.Contain("Candidates considered").And.Contain("not an initializer"));
    }

    [Test]
    public void AForwardOnlyModelGivenToTheEngineSaysHowToImportIt()
    {
        var e = Assert.Throws<FacadeException>(() => GradientEngine.Load(AuditModels.ForwardPathOf("target-a"), new EngineOptions { Log = TextWriter.Null }))!;
        Assert.That(e.Message, Does.Contain("facade import"));
    }

    [Test]
    public void AGraphWithFusedTransformerOperatorsIsRefusedNamingTheNode()
    {
        // What ONNX Runtime's transformer optimizer leaves: a com.microsoft SkipLayerNormalization in place of Add + LayerNorm.
        var model = OnnxFile.Read(AuditModels.ForwardPathOf("target-b"));
        var norm = model.Graph.Node.First(n => n.OpType == "LayerNormalization" && model.Graph.Node.Any(p => p.OpType == "Add" && p.Output[0] == n.Input[0]));
        var add = model.Graph.Node.First(p => p.OpType == "Add" && p.Output[0] == norm.Input[0]);
        model.Graph.Node.Remove(add);
        norm.OpType = "SkipLayerNormalization";
        norm.Domain = "com.microsoft";
        norm.Name = "fused_norm";
        norm.Input[0] = add.Input[0];
        norm.Input.Insert(1, add.Input[1]);
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        string path = Path.Combine(AuditModels.Folder, "fused.onnx");
        OnnxFile.Write(model, path);
        var e = Assert.Throws<FacadeException>(() => Import(path, "fused"))!;
        Assert.That(e.Message, Does.Contain("fused_norm").And.Contain("SkipLayerNormalization").And.Contain("without the transformer optimizations"));
    }

    [Test]
    public void ForwardExportsAtOpset11And21ImportToTheSameGradientsAndTheOldMergeIsStillSeen()
    {
        var target = TinyEngine.Model;
        var manifest = Training.Tests.TinyModels.Manifest(target);
        string Export(int opset)
        {
            string path = Path.Combine(AuditModels.Folder, $"tiny-opset{opset}.forward.onnx");
            OnnxFile.Write(Training.Export.BertOnnxExporter.Forward(target, manifest, options: new Training.Export.ExportOptions { Opset = opset }), path);
            return Import(path, $"tiny-opset{opset}");
        }
        using var old = GradientEngine.Load(Export(11), new EngineOptions { Log = TextWriter.Null });
        using var current = GradientEngine.Load(Export(21), new EngineOptions { Log = TextWriter.Null });
        var inputs = TinyEngine.Sentences(16);
        var (oldLogits, oldGrads) = Run(old, inputs);
        var (logits, grads) = Run(current, inputs);
        double scale = grads.Max(Math.Abs), diff = MaxAbsDiff(oldGrads, grads);
        TestContext.Out.WriteLine($"opset 11 vs 21 after import: logits {MaxAbsDiff(oldLogits, logits):E2}, gradients {diff:E2} of {scale:E2}");
        // Below opset 17 LayerNormalization (and below 20 Gelu) is written out in basic operators, whose float32 rounding
        // differs from the fused kernels by about 1e-6 of the largest gradient; the opset forms themselves add nothing.
        Assert.That(diff, Is.LessThanOrEqualTo(1e-5 * scale));
        Assert.That(MaxAbsDiff(oldLogits, logits), Is.LessThanOrEqualTo(1e-5 * logits.Max(Math.Abs)));

        string merged = Path.Combine(AuditModels.Folder, "merged-opset11.forward.onnx");
        var mergedModel = Training.Merging.Merge.Models(Training.Tests.TinyModels.Create(seed: 23, Training.Tests.TinyModels.Config(hidden: 32) with { Heads = 1 }), target);
        OnnxFile.Write(Training.Export.BertOnnxExporter.Forward(mergedModel, Training.Tests.TinyModels.Manifest(mergedModel, "merged"), options: new Training.Export.ExportOptions { Opset = 11 }), merged);
        var evidence = StructuralForensics.Analyze(OnnxFile.Read(Import(merged, "merged-opset11")));
        Assert.That(evidence.SplitLayerNorms, Is.GreaterThan(0), "LayerNorm written out over split groups");
        Assert.That(evidence.BlockFraction, Is.GreaterThanOrEqualTo(0.5));
    }

    internal static (float[] Logits, float[] Gradients) Run(GradientEngine engine, IReadOnlyList<TokenizedInput> inputs)
    {
        var logits = new List<float>();
        var gradients = new List<float>();
        engine.Gradients(inputs.Select(i => engine.Sample(i)), (_, l, g) =>
        {
            logits.AddRange(l.ToArray());
            gradients.AddRange(g.ToArray());
        });
        return (logits.ToArray(), gradients.ToArray());
    }

    internal static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.That(a.Length, Is.EqualTo(b.Length));
        double worst = 0;
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        return worst;
    }
}
