using FacadeOnnx.Runtime.Attacks;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Facade;
using FacadeOnnx.Training.Model;
using FacadeOnnx.Training.Reference;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// Every method through the ONNX Runtime engine against an independent TorchSharp autograd implementation on the same
/// weights and 32 real SST-2 dev sentences: scores within 1e-4 of the largest, the same rankings, reductions and flips.
/// </summary>
[TestFixture]
public class ParityTests
{
    protected GradientEngine _engine = null!;
    protected BertClassifier _model = null!;
    TorchAnalyses _reference = null!;
    IReadOnlyList<TokenizedInput> _inputs = null!;
    IReadOnlyList<Prediction> _predictions = null!;
    int[] _labels = null!;

    /// <summary>The model under test and its exported gradient model (the tiny one here).</summary>
    protected virtual (BertClassifier Model, GradientEngine Engine) Subject() => (TinyEngine.Model, TinyEngine.Load());

    [OneTimeSetUp]
    public void Load()
    {
        (_model, _engine) = Subject();
        _reference = new TorchAnalyses(_model);
        _inputs = TinyEngine.Sentences(32);
        _predictions = _engine.Predict(_inputs);
        _labels = _predictions.Select(p => p.Label).ToArray();
    }

    [OneTimeTearDown]
    public void Unload() => _engine.Dispose();

    [Test]
    public void PredictionsMatch() => Assert.That(_labels, Is.EqualTo(_reference.Predict(_inputs)));

    IReadOnlyList<SaliencyMap> Torch(SaliencyMethod method)
    {
        var maps = TorchSaliency.Explain(_model, _inputs, method);
        Assert.That(maps.Select(m => m.Label), Is.EqualTo(_labels), "both sides explain the same labels");
        return maps;
    }

    /// <summary>The engine and the TorchSharp reference, given the same method object, explain the same inputs alike.</summary>
    void AssertSameAsReference(SaliencyMethod method) => AssertSame(method.Explain(_engine, _inputs, _predictions), Torch(method));

    [Test]
    public void SimpleGradientMatches() => AssertSameAsReference(new SimpleGradient());

    [Test]
    public void SmoothGradWithTheSameNoiseMatches()
    {
        AssertSameAsReference(new SmoothGrad(new SmoothGradOptions { Seed = 5 }));
    }

    [Test]
    public void IntegratedGradientsMatch()
    {
        var method = new IntegratedGradients();
        var maps = method.Explain(_engine, _inputs, _predictions);
        AssertSame(maps, Torch(method));
        for (int i = 0; i < maps.Count; i++)
            Assert.That(maps[i].Diagnostics["attribution_sum"], Is.EqualTo(maps[i].Raw.Sum(v => (double)v)).Within(1e-9));
    }

    [Test]
    public void IntegratedGradientsCompletenessGapShrinksWithBetterQuadrature()
    {
        double MedianGap(IntegratedGradientsOptions options) => new IntegratedGradients(options).Explain(_engine, _inputs, _predictions)
            .Select(m => m.Diagnostics["completeness_gap"]).OrderBy(g => g).ElementAt(_inputs.Count / 2);
        double reference = MedianGap(new IntegratedGradientsOptions());
        double trapezoid = MedianGap(new IntegratedGradientsOptions { Steps = 64, Rule = IntegrationRule.Trapezoid });
        double gauss = MedianGap(new IntegratedGradientsOptions { Steps = 16, Rule = IntegrationRule.GaussLegendre });
        TestContext.Out.WriteLine($"median completeness gap: left Riemann 5 {reference:E2}, trapezoid 64 {trapezoid:E2}, Gauss-Legendre 16 {gauss:E2}");
        // Attributions sum to L(x) - L(baseline) as the quadrature converges: a few percent at most with 64 trapezoid
        // steps, and both better rules far below the 5-step left Riemann sum's gap. Gauss-Legendre is not held to the
        // trapezoid's bound: on the fine-tuned model the path from the zero baseline crosses a sharp transition that 16
        // nodes resolve poorly (measured median gaps: left Riemann 5 0.82, trapezoid 64 2.3e-4, Gauss-Legendre 16 0.12).
        Assert.That(trapezoid, Is.LessThan(0.05));
        Assert.That(trapezoid, Is.LessThan(reference));
        Assert.That(gauss, Is.LessThan(reference));
    }

    [Test]
    public void LeaveOneOutMatches() =>
        // Leave-one-out scores are differences of float32 probabilities; for a confident prediction every score can sit
        // below 1e-3, where 1e-4 of the largest is under one float32 step at 1.0 (1.2e-7). Hence an absolute floor of
        // 8 such steps (measured on the fine-tuned target: largest score 1.2e-3, worst difference exactly one step).
        AssertSame(new LeaveOneOut().Explain(_engine, _inputs, _predictions), _reference.LeaveOneOut(_inputs, _labels), absoluteFloor: 1e-6);

    [Test]
    public void InputReductionKeepsTheSameTokens()
    {
        var results = new InputReduction().Run(_engine, _inputs, _predictions);
        for (int i = 0; i < _inputs.Count; i++)
            Assert.That(results[i].KeptPositions, Is.EqualTo(_reference.InputReduction(_inputs[i], _labels[i]).KeptPositions), $"input {i}: {string.Join(" ", _inputs[i].Tokens)}");
        Assert.That(results.Count(r => r.ReducedLength < r.OriginalLength), Is.GreaterThan(0), "some inputs were reduced");
    }

    [Test]
    public void HotFlipMakesTheSameFlips()
    {
        var results = new HotFlip().Run(_engine, _inputs, _predictions);
        var candidates = HotFlip.CandidateIds(_engine.Tokenizer);
        for (int i = 0; i < _inputs.Count; i++)
        {
            var reference = _reference.HotFlip(_inputs[i], _labels[i], candidates, _engine.Tokenizer.IdToToken);
            Assert.That(results[i].Success, Is.EqualTo(reference.Success), $"input {i} success");
            Assert.That(results[i].Trace.Select(f => f.Position), Is.EqualTo(reference.Trace.Select(f => f.Position)), $"input {i} flipped positions");
            Assert.That(results[i].Trace.Select(f => f.ToId), Is.EqualTo(reference.Trace.Select(f => f.ToId)), $"input {i} replacements");
            Assert.That(results[i].Trace.Select(f => f.LabelAfter), Is.EqualTo(reference.Trace.Select(f => f.LabelAfter)), $"input {i} labels after each flip");
        }
        Assert.That(results.Count(r => r.Success), Is.GreaterThan(0), "some attacks succeed");
    }

    internal static void AssertSame(IReadOnlyList<SaliencyMap> maps, IReadOnlyList<SaliencyMap> reference, double absoluteFloor = 0)
    {
        Assert.That(maps.Count, Is.EqualTo(reference.Count));
        for (int i = 0; i < maps.Count; i++)
        {
            float[] a = maps[i].Raw, b = reference[i].Raw;
            Assert.That(a.Length, Is.EqualTo(b.Length));
            double scale = Math.Max(b.Max(Math.Abs), 1e-12);
            for (int t = 0; t < a.Length; t++)
                Assert.That(a[t], Is.EqualTo(b[t]).Within(Math.Max(1e-4 * scale, absoluteFloor)), $"input {i}, token {t}");
            AssertSameRanking(maps[i].Normalized, reference[i].Normalized, i);
        }
    }

    /// <summary>Rankings must agree, except that tokens whose scores differ by less than the tolerance may swap.</summary>
    static void AssertSameRanking(float[] engine, float[] reference, int input)
    {
        int[] a = Rank(engine), b = Rank(reference);
        for (int r = 0; r < a.Length; r++)
            if (a[r] != b[r])
                Assert.That(Math.Abs(reference[a[r]] - reference[b[r]]), Is.LessThan(1e-4), $"input {input}: rank {r} differs beyond a tie");
    }

    static int[] Rank(float[] scores) => Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();
}

/// <summary>
/// The same parity on the fine-tuned SST-2 target (models/sst2-target, MiniLM size). Explicit: it needs the trained
/// checkpoint, which is not in git; run it with `dotnet test --filter FullyQualifiedName~FineTunedParityTests` after
/// `./facade train --task sst2`. Its results are quoted in the README.
/// </summary>
[TestFixture, Explicit("needs models/sst2-target (not in git)")]
public class FineTunedParityTests : ParityTests
{
    protected override (BertClassifier Model, GradientEngine Engine) Subject() => FineTunedTarget("parity");

    /// <summary>models/sst2-target and its gradient export (a temporary file), for the explicit fine-tuned checks.</summary>
    internal static (BertClassifier Model, GradientEngine Engine) FineTunedTarget(string purpose)
    {
        string folder = Path.Combine(RepositoryPaths.FindRepositoryRoot()!, "models", "sst2-target");
        var (model, manifest) = Training.Checkpoints.Checkpoint.Load(folder);
        string onnx = Path.Combine(Path.GetTempPath(), $"facade-finetuned-{purpose}-{Guid.NewGuid():N}.onnx");
        Graph.OnnxFile.Write(Training.Export.BertOnnxExporter.Gradient(model, manifest, folder), onnx);
        return (model, GradientEngine.Load(onnx, new EngineOptions { Log = TextWriter.Null }));
    }
}
