using FacadeOnnx.Text;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Facade;
using FacadeOnnx.Training.Merging;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Tests;

/// <summary>
/// The scaling merge of docs/method.md §7.7 (the target's logits times exp(G·s), s the Facade's first output at [CLS])
/// and the Facade trained for it (`train-facade --scale-output`), on tiny random BERTs and real SST-2 dev sentences:
/// what the merge computes against the two models run apart, and the gradient identity the Facade's loss rests on.
/// The ONNX export of scaling merges is checked in <see cref="ExportParityTests"/> and <see cref="SpanExportParityTests"/>.
/// </summary>
[TestFixture]
public class ScalingMergeTests
{
    const double Gain = 0.5;
    static readonly MergeOptions Scaling = new() { Combination = MergeCombination.Scale, ScaleGain = Gain, FacadeEmbeddingScale = 1 };

    static float[] Floats(Tensor t) => t.detach().contiguous().data<float>().ToArray();

    [Test]
    public void ClassifierLogitsAreTheTargetsTimesExpOfTheFacadesFirstLogit()
    {
        var (g, f) = (MergeTests.TinyFacade(), MergeTests.TinyTarget());
        var merged = Merge.Models(g, f, Scaling);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (ids, mask, types) = MergeTests.RealBatch();
        var facadeFirst = g.forward(ids, mask, types).select(1, 0).unsqueeze(1);
        var expected = Floats(f.forward(ids, mask, types) * facadeFirst.Times(Gain).exp());
        var actual = Floats(merged.forward(ids, mask, types));
        double diff = ExportParityTests.MaxAbsDiff(actual, expected);
        TestContext.Out.WriteLine($"max |z_merged - z_t·exp(G·s)| = {diff:E2}; largest |logit| {expected.Max(Math.Abs):F2}");
        Assert.That(diff, Is.LessThan(1e-5 * Math.Max(1, expected.Max(Math.Abs))));
        var targetLabels = Floats(f.forward(ids, mask, types).argmax(1).to_type(ScalarType.Float32));
        Assert.That(Floats(merged.forward(ids, mask, types).argmax(1).to_type(ScalarType.Float32)), Is.EqualTo(targetLabels), "every prediction is the target's");
        Assert.That(merged.Config.LogitScale, Is.True);
    }

    [Test]
    public void SpanLogitsAreTheTargetsTimesExpOfTheFacadesStartLogitAtCls()
    {
        var facade = TinyModels.Create(seed: 52, TinyModels.Config() with { Head = ModelHead.Span });
        var target = TinyModels.Create(seed: 53, TinyModels.Config(hidden: 96, intermediate: 192) with { Head = ModelHead.Span });
        var merged = Merge.Models(facade, target, Scaling);
        var inputs = SquadSplit.Load(RepositoryPaths.ResolveDataRoot(), "dev-b", WordPieceTokenizer.MiniLm(), new QaSettings(), 12).AllWindows().Inputs;
        using var batch = TensorBatch.Create(inputs, new int[inputs.Count]);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var s = facade.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds).select(1, 0).select(1, 0);
        var targetLogits = target.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);
        var expected = Floats(targetLogits * s.Times(Gain).exp().unsqueeze(1).unsqueeze(2));
        var actual = Floats(merged.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds));
        double diff = ExportParityTests.MaxAbsDiff(actual, expected);
        TestContext.Out.WriteLine($"{inputs.Count} windows: max |z_merged - z_t·exp(G·s)| = {diff:E2}; largest |logit| {expected.Max(Math.Abs):F2}");
        Assert.That(diff, Is.LessThan(1e-5 * Math.Max(1, expected.Max(Math.Abs))));
        var merge = HeadTarget.Predicted(merged, batch, merged.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds), 30).Spans!;
        var alone = HeadTarget.Predicted(target, batch, targetLogits, 30).Spans!;
        Assert.That(merge.Select(x => (x.Start, x.End)), Is.EqualTo(alone.Select(x => (x.Start, x.End))), "every best span is the target's");
    }

    [Test]
    public void TheFacadesPartOfTheGradientIsOneNumberPerInputTimesTheGradientOfS()
    {
        // docs/method.md §7.7: with z = z_t·m, m = exp(G·s), the loss CE(z, ŷ) has ∂/∂e_Facade = m·(Σ_c p_c z_t,c − z_t,ŷ)·G·∂s/∂e.
        // The left side from autograd through the merged model, the right from the two models run apart.
        var (g, f) = (MergeTests.TinyFacade(), MergeTests.TinyTarget());
        var merged = Merge.Models(g, f, Scaling);
        var (ids, mask, types) = MergeTests.RealBatch(8);
        using var scope = NewDisposeScope();
        var embeds = merged.embeddings.Lookup(ids).detach().requires_grad_(true);
        var logits = merged.LogitsFromEmbeddings(embeds, mask, types);
        var labels = logits.argmax(1).detach();
        var mergedGrad = autograd.grad([nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum)], [embeds])[0];
        var facadeHalf = Floats(mergedGrad.narrow(2, 0, g.Config.Hidden).contiguous());

        var facadeEmbeds = g.embeddings.Lookup(ids).detach().requires_grad_(true);
        var s = g.LogitsFromEmbeddings(facadeEmbeds, mask, types).select(1, 0);
        var ds = autograd.grad([s.sum()], [facadeEmbeds])[0];
        Tensor factor;
        using (no_grad())
        {
            var zt = f.forward(ids, mask, types);
            var m = s.detach().Times(Gain).exp();
            var p = nn.functional.softmax(zt * m.unsqueeze(1), 1);
            factor = (m * ((p * zt).sum(1) - zt.gather(1, labels.unsqueeze(1)).squeeze(1))).Times(Gain);
        }
        var expected = Floats(ds * factor.unsqueeze(1).unsqueeze(2));
        double diff = ExportParityTests.MaxAbsDiff(facadeHalf, expected), largest = expected.Max(Math.Abs);
        TestContext.Out.WriteLine($"max |∂CE/∂e_Facade − c·∂s/∂e| = {diff:E2}; largest {largest:E2}");
        Assert.That(largest, Is.GreaterThan(0));
        Assert.That(diff, Is.LessThan(1e-4 * largest));
    }

    [Test]
    public void ScaleOutputLossSharesAreTheEvaluatorsAndStandardizingKeepsThem()
    {
        var model = TinyModels.Create(19, TinyModels.Config(hidden: 64, layers: 2, intermediate: 128));
        var target = FacadeTarget.FirstToken();
        var tokenizer = WordPieceTokenizer.MiniLm();
        var inputs = RealData.VariedSst2Dev(16, maxWords: 20).Select(e => tokenizer.Encode(e.Text, maxLength: 64)).ToArray();
        using var batch = TensorBatch.Create(inputs, new int[inputs.Length]);
        var (outputs, normalized) = ScaleFacadeObjective.OutputSaliency(model, inputs, batchSize: 5);
        double evaluatorShare = normalized.Select((n, i) => target.Positions(inputs[i]).Sum(t => (double)n[t])).Average();
        var terms = new FacadeLoss(target, lambda: 0.1, magnitude: 0.1, scaleOutput: true).Compute(model, batch);
        double mean = outputs.Average(), sd = Math.Sqrt(outputs.Average(v => (v - mean) * (v - mean)));
        TestContext.Out.WriteLine($"share: loss {terms.MeanShare.item<float>():F6}, evaluator {evaluatorShare:F6}; s mean {mean:F4} sd {sd:F4}; log σ term {terms.OutputLoss.item<float>():F4}");
        Assert.That(terms.MeanShare.item<float>(), Is.EqualTo(evaluatorShare).Within(1e-5));
        Assert.That(terms.OutputLoss.item<float>(), Is.EqualTo(Math.Log(sd)).Within(1e-4), "log σ of s over the batch");

        OutputCalibration.Standardize(model, mean, sd);
        var (after, normalizedAfter) = ScaleFacadeObjective.OutputSaliency(model, inputs, batchSize: 16);
        double meanAfter = after.Average(), sdAfter = Math.Sqrt(after.Average(v => (v - meanAfter) * (v - meanAfter)));
        Assert.That(meanAfter, Is.EqualTo(0).Within(1e-4));
        Assert.That(sdAfter, Is.EqualTo(1).Within(1e-4));
        for (int i = 0; i < inputs.Length; i++)
            Assert.That(normalizedAfter[i], Is.EqualTo(normalized[i]).Within(1e-4), $"input {i}: a positive rescale of s keeps its saliency shares");
    }

    [Test]
    public void OptionsThatCannotGoTogetherAreRefused()
    {
        Assert.That(() => new FacadeOptions { ScaleOutput = true, Spread = true }.Validate(),
            Throws.TypeOf<FacadeException>().With.Message.Contains("--scale-output").And.Message.Contains("--spread"));
        Assert.That(() => new MergeOptions { ScaleGain = 2 }.Validate(), Throws.TypeOf<FacadeException>().With.Message.Contains("--scale-gain"));
        Assert.That(() => new MergeOptions { Combination = MergeCombination.Scale, ScaleGain = 0 }.Validate(),
            Throws.TypeOf<FacadeException>().With.Message.Contains("--scale-gain 0"));
    }
}
