using FacadeOnnx.Graph.Building;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Export;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;
using Contract = FacadeOnnx.Graph.Contract.GradientModelContract;

namespace FacadeOnnx.Training.Tests;

/// <summary>
/// The exported ONNX graphs against TorchSharp on 32 real SST-2 dev sentences of different lengths in one padded
/// batch: ONNX Runtime's logits against the TorchSharp forward, and the appended backward graph's inputs_embeds_grad
/// against TorchSharp autograd.grad of the per-example cross-entropy at the model's own prediction.
/// </summary>
[TestFixture]
public class ExportParityTests
{
    public static (float[] Logits, float[] Grad, float[] Embeds) TorchReference(BertClassifier model, Batch batch)
    {
        long[] shape = [batch.Size, batch.SequenceLength];
        using var scope = NewDisposeScope();
        using var ids = tensor(batch.InputIds, shape);
        using var mask = tensor(batch.AttentionMask, shape);
        using var types = tensor(batch.TokenTypeIds, shape);
        var embeds = model.embeddings.Lookup(ids).detach().requires_grad_();
        var logits = model.LogitsFromEmbeddings(embeds, mask, types);
        var target = logits.argmax(-1);
        var loss = nn.functional.cross_entropy(logits, target, reduction: nn.Reduction.Sum);
        var grad = autograd.grad([loss], [embeds])[0];
        return (logits.detach().data<float>().ToArray(), grad.data<float>().ToArray(), embeds.detach().data<float>().ToArray());
    }

    public static void AssertGradientParity(BertClassifier model, int sentences, int opset = GraphBuilder.DefaultOpset, bool prune = true)
    {
        var manifest = TinyModels.Manifest(model);
        var options = new ExportOptions { Opset = opset, PruneLastLayer = prune };
        var forward = BertOnnxExporter.Forward(model, manifest, options: options);
        var gradient = BertOnnxExporter.Gradient(model, manifest, options: options);
        Assert.That(gradient.OpsetImport.Single().Version, Is.EqualTo(opset), "the gradient model keeps the opset asked for");
        var tokenizer = WordPieceTokenizer.MiniLm();
        var batch = Batch.FromInputs(RealData.VariedSst2Dev(sentences).Select(e => tokenizer.Encode(e.Text, maxLength: 128)).ToList());
        long[] shape = [batch.Size, batch.SequenceLength];
        var (logits, grad, embeds) = TorchReference(model, batch);

        using var forwardSession = new OrtSession(forward);
        var ortLogits = forwardSession.Run(new()
        {
            [Contract.InputIds] = (batch.InputIds, shape), [Contract.AttentionMask] = (batch.AttentionMask, shape), [Contract.TokenTypeIds] = (batch.TokenTypeIds, shape),
        }, Contract.Logits)[Contract.Logits];
        using var gradientSession = new OrtSession(gradient);
        var outputs = gradientSession.Run(new()
        {
            [Contract.InputsEmbeds] = (embeds, [batch.Size, batch.SequenceLength, model.Config.Hidden]),
            [Contract.AttentionMask] = (batch.AttentionMask, shape),
            [Contract.TokenTypeIds] = (batch.TokenTypeIds, shape),
            [Contract.Target] = (Enumerable.Repeat(-1L, batch.Size).ToArray(), [batch.Size]),
        }, Contract.Logits, Contract.InputsEmbedsGrad);

        // Float32 on both sides through 2-6 layers: agreement to 1e-4 (absolute on logits, relative to the largest
        // gradient component on gradients) is what the export contract promises.
        Assert.That(MaxAbsDiff(ortLogits, logits), Is.LessThan(1e-4), "forward model logits");
        Assert.That(MaxAbsDiff(outputs[Contract.Logits], logits), Is.LessThan(1e-4), "gradient model logits");
        double scale = grad.Max(Math.Abs);
        Assert.That(scale, Is.GreaterThan(0));
        double gradDiff = MaxAbsDiff(outputs[Contract.InputsEmbedsGrad], grad);
        TestContext.Out.WriteLine($"max logit diff {MaxAbsDiff(outputs[Contract.Logits], logits):E2}, max grad diff {gradDiff:E2} (largest |grad| {scale:E2})");
        Assert.That(gradDiff, Is.LessThan(1e-4 * scale), "inputs_embeds_grad");

        int h = model.Config.Hidden;
        int padded = 0;
        for (int row = 0; row < batch.Size; row++)
            for (int t = batch.Lengths[row]; t < batch.SequenceLength; t++)
                for (int d = 0; d < h; d++, padded++)
                    Assert.That(outputs[Contract.InputsEmbedsGrad][(row * batch.SequenceLength + t) * h + d], Is.EqualTo(0f), $"padding of row {row}, position {t}");
        Assert.That(padded, Is.GreaterThan(0), "the batch has padding");
    }

    public static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.That(a.Length, Is.EqualTo(b.Length));
        double worst = 0;
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        return worst;
    }

    [Test, Explicit("needs models/sst2-target (not in git); quoted in the README")]
    public void FineTunedTargetExportMatchesTorchSharp()
    {
        var (model, _) = Checkpoints.Checkpoint.Load(Path.Combine(RepositoryPaths.FindRepositoryRoot()!, "models", "sst2-target"));
        AssertGradientParity(model, sentences: 32);
    }

    [Test]
    public void ExportedModelsCarryTheContractMetadata()
    {
        var model = TinyModels.Create(seed: 9);
        foreach (var onnx in new[] { BertOnnxExporter.Forward(model, TinyModels.Manifest(model)), BertOnnxExporter.Gradient(model, TinyModels.Manifest(model)) })
        {
            var metadata = Graph.Metadata.All(onnx);
            foreach (var key in new[] { Contract.Keys.Format, Contract.Keys.Task, Contract.Keys.LabelNames, Contract.Keys.VocabSha256, Contract.Keys.Vocab, Contract.Keys.WordEmbedding,
                                        Contract.Keys.HiddenSize, Contract.Keys.MaxPositions, Contract.Keys.Producer, Contract.Keys.SourceManifest })
                Assert.That(metadata.ContainsKey(key), key);
            Assert.That(onnx.Graph.Initializer.Any(t => t.Name == metadata[Contract.Keys.WordEmbedding]), "the embedding matrix is in the file");
            Assert.That(onnx.OpsetImport.Single().Version, Is.EqualTo(21));
            Assert.That(onnx.IrVersion, Is.EqualTo(10));
        }
    }

    [Test]
    public void TinyModelExportMatchesTorchSharp() => AssertGradientParity(TinyModels.Create(seed: 7), sentences: 32);

    [Test]
    public void GroupedLayerNormModelExportMatchesTorchSharp() =>
        AssertGradientParity(TinyModels.Create(seed: 8, TinyModels.Config(hidden: 96) with { HiddenGroups = [32, 64], Heads = 3 }), sentences: 32);

    [Test]
    public void UnprunedExportMatchesTorchSharp() => AssertGradientParity(TinyModels.Create(seed: 7), sentences: 32, prune: false);

    [Test]
    public void GroupedLayerNormModelUnprunedExportMatchesTorchSharp() =>
        AssertGradientParity(TinyModels.Create(seed: 8, TinyModels.Config(hidden: 96) with { HiddenGroups = [32, 64], Heads = 3 }), sentences: 32, prune: false);

    /// <summary>The pruned last layer computes what the full one does on the row the classifier reads: the two
    /// gradient graphs agree within 1e-5 (logits absolute, gradients relative to the largest component), at opset 21
    /// and at opset 11, and the pruned one multiplies fewer matrices.</summary>
    [TestCase(21), TestCase(11)]
    public void PrunedAndUnprunedGraphsAgree(int opset)
    {
        var model = TinyModels.Create(seed: 8, TinyModels.Config(hidden: 96) with { HiddenGroups = [32, 64], Heads = 3 });
        var manifest = TinyModels.Manifest(model);
        var tokenizer = WordPieceTokenizer.MiniLm();
        var batch = Batch.FromInputs(RealData.VariedSst2Dev(32).Select(e => tokenizer.Encode(e.Text, maxLength: 128)).ToList());
        var (_, _, embeds) = TorchReference(model, batch);
        long[] shape = [batch.Size, batch.SequenceLength];
        Dictionary<string, float[]> Run(bool prune)
        {
            using var session = new OrtSession(BertOnnxExporter.Gradient(model, manifest, options: new ExportOptions { Opset = opset, PruneLastLayer = prune }));
            return session.Run(new()
            {
                [Contract.InputsEmbeds] = (embeds, [batch.Size, batch.SequenceLength, model.Config.Hidden]),
                [Contract.AttentionMask] = (batch.AttentionMask, shape),
                [Contract.TokenTypeIds] = (batch.TokenTypeIds, shape),
                [Contract.Target] = (Enumerable.Repeat(-1L, batch.Size).ToArray(), [batch.Size]),
            }, Contract.Logits, Contract.InputsEmbedsGrad);
        }
        var pruned = Run(prune: true);
        var full = Run(prune: false);
        double scale = full[Contract.InputsEmbedsGrad].Max(Math.Abs);
        TestContext.Out.WriteLine($"opset {opset}: logits {MaxAbsDiff(pruned[Contract.Logits], full[Contract.Logits]):E2}, " +
                                  $"gradients {MaxAbsDiff(pruned[Contract.InputsEmbedsGrad], full[Contract.InputsEmbedsGrad]):E2} of {scale:E2}");
        Assert.That(MaxAbsDiff(pruned[Contract.Logits], full[Contract.Logits]), Is.LessThan(1e-5), "logits");
        Assert.That(MaxAbsDiff(pruned[Contract.InputsEmbedsGrad], full[Contract.InputsEmbedsGrad]), Is.LessThan(1e-5 * scale), "gradients");

        int MatMuls(bool prune) => BertOnnxExporter.Forward(model, manifest, options: new ExportOptions { Opset = opset, PruneLastLayer = prune })
            .Graph.Node.Count(n => n.OpType == "MatMul");
        Assert.That(MatMuls(prune: true), Is.EqualTo(MatMuls(prune: false) + 1), "the pruned layer splits the query from the key-value product");
    }

    // Opset 11 writes LayerNormalization and Gelu out in elementary operators and gives axes and split sizes as attributes.
    [Test]
    public void TinyModelExportAtOpset11MatchesTorchSharp() => AssertGradientParity(TinyModels.Create(seed: 7), sentences: 32, opset: 11);

    [Test]
    public void GroupedLayerNormModelExportAtOpset11MatchesTorchSharp() =>
        AssertGradientParity(TinyModels.Create(seed: 8, TinyModels.Config(hidden: 96) with { HiddenGroups = [32, 64], Heads = 3 }), sentences: 32, opset: 11);
}
