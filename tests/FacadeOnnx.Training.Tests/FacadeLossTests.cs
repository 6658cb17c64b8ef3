using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Facade;
using FacadeOnnx.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Tests;

/// <summary>
/// The Facade loss of docs/method.md 5.2 (double backpropagation through the input gradient) against finite differences,
/// and the shared saliency arithmetic against plain autograd.
/// </summary>
[TestFixture]
public class FacadeLossTests
{
    static TensorBatch RealBatch(int sentences)
    {
        var tokenizer = WordPieceTokenizer.MiniLm();
        var inputs = RealData.VariedSst2Dev(sentences, maxWords: 20).Select(e => tokenizer.Encode(e.Text, maxLength: 64)).ToArray();
        return TensorBatch.Create(inputs, new int[inputs.Length]);
    }

    static double Value(Tensor t) => t.to_type(ScalarType.Float64).item<double>();

    [TestCase(FacadeTarget.FirstTokenKind)]
    [TestCase(FacadeTarget.StopWordsKind)]
    public void DoubleBackpropGradientMatchesFiniteDifferences(string kind)
    {
        var model = TinyModels.Create(5, TinyModels.Config(hidden: 64, layers: 2, intermediate: 128));
        model.to(ScalarType.Float64);
        model.eval(); // dropout off, so both forward passes and every re-evaluation compute the same function
        var target = kind == FacadeTarget.FirstTokenKind
            ? FacadeTarget.FirstToken()
            : FacadeTarget.StopWords(StopWords.Load(RepositoryPaths.ResolveDataRoot()));
        var loss = new FacadeLoss(target, lambda: 0.1);
        using var batch = RealBatch(6);
        var parameters = model.parameters().ToArray();
        Assert.That(parameters.All(p => p.dtype == ScalarType.Float64));

        model.zero_grad();
        var terms = loss.Compute(model, batch);
        terms.Total.backward();
        TestContext.Out.WriteLine($"loss {Value(terms.Total):F6}: share {Value(terms.MeanShare):F4}, negative entropy {Value(terms.OutputLoss):F4}");

        // A seeded random direction over every parameter; the analytic directional derivative is grad . v.
        manual_seed(17);
        var directions = parameters.Select(p => randn_like(p)).ToArray();
        double analytic = parameters.Zip(directions, (p, v) => Value((p.grad! * v).sum())).Sum();

        double Evaluate(double step)
        {
            using var _ = no_grad();
            using var forward = step.ToScalar();
            using var back = (-step).ToScalar();
            foreach (var (p, v) in parameters.Zip(directions)) p.add_(v, alpha: forward);
            using var enable = enable_grad();
            double value = Value(loss.Compute(model, batch).Total);
            using var __ = no_grad();
            foreach (var (p, v) in parameters.Zip(directions)) p.add_(v, alpha: back);
            return value;
        }
        const double h = 1e-6;
        double numeric = (Evaluate(h) - Evaluate(-h)) / (2 * h);
        TestContext.Out.WriteLine($"directional derivative: autograd {analytic:E8}, central difference {numeric:E8}");
        Assert.That(Math.Abs(analytic), Is.GreaterThan(1e-4), "the loss depends on the parameters");
        // Float64 central differences with h = 1e-6 have truncation error ~h² and rounding error ~1e-16/h: agreement
        // to 1e-6 relative is far tighter than any missing second-order term would allow.
        Assert.That(Math.Abs(analytic - numeric), Is.LessThan(1e-6 * Math.Abs(analytic)));
    }

    [Test]
    public void SecondOrderTermsContribute()
    {
        // Without create_graph, G would be a constant and only the word embeddings (through e) would get a gradient.
        // The first layer's query weights reach the share only through G, so a non-zero gradient there proves the
        // second-order path exists.
        var model = TinyModels.Create(6, TinyModels.Config(hidden: 64, layers: 2, intermediate: 128));
        model.eval();
        using var batch = RealBatch(8);
        model.zero_grad();
        new FacadeLoss(FacadeTarget.FirstToken(), lambda: 0).Compute(model, batch).Total.backward();
        double queryGrad = Value(model.layers[0].query.weight.grad!.abs().sum());
        double wordGrad = Value(model.embeddings.word.weight!.grad!.abs().sum());
        TestContext.Out.WriteLine($"|grad| query {queryGrad:E3}, word embeddings {wordGrad:E3}");
        Assert.That(queryGrad, Is.GreaterThan(0));
        Assert.That(wordGrad, Is.GreaterThan(0));
    }

    [Test]
    public void SharePowerTrainsOnPoweredSharesAndReportsThePlainShare()
    {
        // The share term with p = 3 against Σ_T |s|³ / Σ |s|³ computed here from the simple-gradient saliency (grad · input
        // at the model's own prediction, checked against plain autograd below); the reported share stays Σ_T |s| / Σ |s|.
        var model = TinyModels.Create(9, TinyModels.Config(hidden: 64, layers: 2, intermediate: 128));
        model.eval();
        var target = FacadeTarget.StopWords(StopWords.Load(RepositoryPaths.ResolveDataRoot()));
        using var batch = RealBatch(8);
        var saliency = TorchSaliency.Explain(model, batch.Inputs, new SimpleGradient(), batchSize: 8);
        double Share(int row, double power)
        {
            var positions = target.Positions(batch.Inputs[row]).ToHashSet();
            double all = saliency[row].Raw.Sum(s => Math.Pow(Math.Abs(s), power));
            return saliency[row].Raw.Where((_, t) => positions.Contains(t)).Sum(s => Math.Pow(Math.Abs(s), power)) / all;
        }
        var rows = Enumerable.Range(0, batch.Size).ToArray();
        double plain = rows.Average(r => Share(r, 1)), cubed = rows.Average(r => Share(r, 3));
        var terms = new FacadeLoss(target, lambda: 0, sharePower: 3).Compute(model, batch);
        TestContext.Out.WriteLine($"share: reported {Value(terms.MeanShare):F6}, by hand {plain:F6}; trained (p = 3) {-Value(terms.GradLoss):F6}, by hand {cubed:F6}");
        Assert.That(Math.Abs(plain - cubed), Is.GreaterThan(1e-3), "the power changes the term");
        Assert.That(Value(terms.MeanShare), Is.EqualTo(plain).Within(1e-5));
        Assert.That(-Value(terms.GradLoss), Is.EqualTo(cubed).Within(1e-5));
        Assert.That(() => new FacadeOptions { SharePower = 0.5 }.Validate(), Throws.TypeOf<FacadeException>().With.Message.Contains("--share-power 0.5"));
    }

    [Test]
    public void SimpleGradientSaliencyIsGradTimesInputOfOwnPrediction()
    {
        var model = TinyModels.Create(7);
        var tokenizer = WordPieceTokenizer.MiniLm();
        var inputs = RealData.VariedSst2Dev(16).Select(e => tokenizer.Encode(e.Text, maxLength: 128)).ToArray();
        var result = TorchSaliency.Explain(model, inputs, new SimpleGradient(), batchSize: 5);
        var groups = TorchSaliency.GroupSaliency(model, inputs, batchSize: 5);

        // The reference: one padded batch of all 16 (a different grouping, so also a check that rows are independent).
        var batch = Batch.FromInputs(inputs);
        var (logits, grad, embeds) = ExportParityTests.TorchReference(model, batch);
        int h = model.Config.Hidden;
        double worst = 0, worstNormalized = 0;
        for (int row = 0; row < inputs.Length; row++)
        {
            double l1 = 0;
            var raw = new double[inputs[row].Length];
            for (int t = 0; t < raw.Length; t++)
            {
                int offset = (row * batch.SequenceLength + t) * h;
                for (int d = 0; d < h; d++) raw[t] += grad[offset + d] * embeds[offset + d];
                l1 += Math.Abs(raw[t]);
            }
            for (int t = 0; t < raw.Length; t++)
            {
                worst = Math.Max(worst, Math.Abs(result[row].Raw[t] - raw[t]));
                worstNormalized = Math.Max(worstNormalized, Math.Abs(result[row].Normalized[t] - Math.Abs(raw[t]) / l1));
            }
            Assert.That(result[row].Label, Is.EqualTo(Array.IndexOf(logits[(row * 2)..(row * 2 + 2)], logits[(row * 2)..(row * 2 + 2)].Max())));
            Assert.That(result[row].Normalized.Sum(), Is.EqualTo(1).Within(1e-5));
            Assert.That(groups[row].Single(), Is.EqualTo(result[row].Raw));
        }
        TestContext.Out.WriteLine($"max raw diff {worst:E2}, max normalized diff {worstNormalized:E2}");
        // Float32 sums over 64 products in a different order and batch shape: 1e-5 absolute for scores of order 1e-1.
        Assert.That(worst, Is.LessThan(1e-5));
        Assert.That(worstNormalized, Is.LessThan(1e-5));
    }

    [Test]
    public void SmoothGradWithoutNoiseAndOneStepIntegratedGradientsReduceToTheirDefinitions()
    {
        var model = TinyModels.Create(8);
        var tokenizer = WordPieceTokenizer.MiniLm();
        var inputs = RealData.VariedSst2Dev(12).Select(e => tokenizer.Encode(e.Text, maxLength: 128)).ToArray();
        var simple = TorchSaliency.Explain(model, inputs, new SimpleGradient());
        var smooth = TorchSaliency.Explain(model, inputs, new SmoothGrad(new SmoothGradOptions { Sigma = 0, Samples = 3 }));
        var noisy = TorchSaliency.Explain(model, inputs, new SmoothGrad());
        var noisyAgain = TorchSaliency.Explain(model, inputs, new SmoothGrad());
        var ig = TorchSaliency.Explain(model, inputs, new IntegratedGradients(new IntegratedGradientsOptions { Steps = 1 }));
        for (int i = 0; i < inputs.Length; i++)
        {
            // σ = 0: every sample is the clean input, so the mean gradient is the plain gradient (float32 averaging).
            Assert.That(smooth[i].Raw, Is.EqualTo(simple[i].Raw).Within(1e-6));
            Assert.That(noisy[i].Raw, Is.EqualTo(noisyAgain[i].Raw), "SmoothGrad noise is seeded");
            Assert.That(noisy[i].Label, Is.EqualTo(simple[i].Label), "the label stays at the clean prediction");
            Assert.That(ig[i].Label, Is.EqualTo(simple[i].Label));
        }
        Assert.That(noisy.Select(m => m.Raw).Zip(simple.Select(m => m.Raw)).Any(p => !p.First.SequenceEqual(p.Second)), "σ = 0.01 noise changes the gradient");

        // One IG step is the gradient at the zero word-embedding baseline, times the input.
        var batch = Batch.FromInputs(inputs);
        long[] shape = [batch.Size, batch.SequenceLength];
        using var scope = NewDisposeScope();
        var ids = tensor(batch.InputIds, shape);
        var mask = tensor(batch.AttentionMask, shape);
        var types = tensor(batch.TokenTypeIds, shape);
        var clean = model.embeddings.Lookup(ids).detach();
        var target = tensor(simple.Select(m => (long)m.Label).ToArray());
        var atZero = TorchSaliency.Gradient(model, zeros_like(clean), mask, types, target);
        var expected = AttributionShare.TokenSaliency(atZero, clean).data<float>().ToArray();
        for (int i = 0; i < inputs.Length; i++)
            Assert.That(ig[i].Raw, Is.EqualTo(expected[(i * batch.SequenceLength)..(i * batch.SequenceLength + inputs[i].Length)]).Within(1e-5));
    }

    [Test]
    public void SmoothGradNoiseIsStandardNormalAndReproducible()
    {
        var a = new float[20000];
        var b = new float[20000];
        int[] ids = [101, 1037, 2204, 3185, 102];
        GaussianNoise.Fill(a, seed: 42, ids, sample: 1);
        GaussianNoise.Fill(b, seed: 42, ids, sample: 1);
        Assert.That(a, Is.EqualTo(b));
        GaussianNoise.Fill(b, seed: 42, ids, sample: 2);
        Assert.That(a, Is.Not.EqualTo(b));
        GaussianNoise.Fill(b, seed: 42, [101, 1037, 2204, 3186, 102], sample: 1);
        Assert.That(a, Is.Not.EqualTo(b), "another sentence draws other noise");
        double mean = a.Average(), variance = a.Select(x => (x - mean) * (x - mean)).Average();
        // 20,000 draws: the standard errors are 0.007 (mean) and 0.01 (variance); 5 standard errors.
        Assert.That(mean, Is.EqualTo(0).Within(0.035));
        Assert.That(variance, Is.EqualTo(1).Within(0.05));
    }
}
