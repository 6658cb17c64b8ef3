using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// Adaptive Integrated Gradients on real SST-2 dev sentences through the tiny model: where an input stops, its
/// attributions are those of fixed-step IG at that many steps (the reused nodes change nothing), it stops only within
/// the tolerance or at the cap, and it needs fewer gradients than giving every input the cap.
/// </summary>
[TestFixture]
public class AdaptiveIntegrationTests
{
    GradientEngine _engine = null!;
    IReadOnlyList<TokenizedInput> _inputs = null!;
    IReadOnlyList<Prediction> _predictions = null!;

    [OneTimeSetUp]
    public void Load()
    {
        _engine = TinyEngine.Load(batchBudget: 16);
        _inputs = TinyEngine.Sentences(24);
        _predictions = _engine.Predict(_inputs);
    }

    [OneTimeTearDown]
    public void Unload() => _engine.Dispose();

    [TestCase(IntegrationRule.Trapezoid, 1e-3)]
    [TestCase(IntegrationRule.LeftRiemann, 2e-2)]
    public void StopsWithinTheToleranceWithTheAttributionsOfFixedStepsThere(IntegrationRule rule, double tolerance)
    {
        var options = new IntegratedGradientsOptions { Steps = 2, Rule = rule, Tolerance = tolerance, MaxSteps = 64 };
        var adaptive = new IntegratedGradients(options).Explain(_engine, _inputs, _predictions);
        var steps = adaptive.Select(m => (int)m.Diagnostics["steps"]).ToArray();
        TestContext.Out.WriteLine($"{rule}: steps {string.Join(" ", steps)}; gaps {string.Join(" ", adaptive.Select(m => m.Diagnostics["completeness_gap"].ToString("E1")))}");
        Assert.That(steps.Distinct().Count(), Is.GreaterThan(1), "inputs stop at different steps (else nothing adapts)");
        for (int i = 0; i < adaptive.Count; i++)
        {
            double gap = adaptive[i].Diagnostics["completeness_gap"];
            Assert.That(gap <= tolerance || steps[i] * 2 > options.MaxSteps, $"sentence {i} stopped at {steps[i]} steps with gap {gap:E2}");
            Assert.That(adaptive[i].Diagnostics["gradient_evaluations"], Is.EqualTo(rule == IntegrationRule.Trapezoid ? steps[i] + 1 : steps[i]));
        }
        foreach (var group in Enumerable.Range(0, _inputs.Count).GroupBy(i => steps[i]))
        {
            var indices = group.ToArray();
            var fixedMaps = new IntegratedGradients(options with { Steps = group.Key, Tolerance = null })
                .Explain(_engine, indices.Select(i => _inputs[i]).ToArray(), indices.Select(i => _predictions[i]).ToArray());
            for (int k = 0; k < indices.Length; k++)
            {
                var expected = fixedMaps[k].Raw;
                double scale = expected.Max(Math.Abs);
                // Sums in another order (node by node against all at once): float32 rounding only.
                Assert.That(adaptive[indices[k]].Raw, Is.EqualTo(expected).Within(1e-5 * scale), $"sentence {indices[k]} at {group.Key} steps");
                Assert.That(adaptive[indices[k]].Diagnostics["completeness_gap"], Is.EqualTo(fixedMaps[k].Diagnostics["completeness_gap"]).Within(1e-3));
            }
        }
        long atCap = _inputs.Count * (long)(rule == IntegrationRule.Trapezoid ? options.MaxSteps + 1 : options.MaxSteps);
        Assert.That(adaptive.Sum(m => m.Diagnostics["gradient_evaluations"]), Is.LessThan(atCap));
    }

    [Test]
    public void AToleranceAboveEveryGapIsFixedStepIntegratedGradients()
    {
        var options = new IntegratedGradientsOptions { Steps = 5 };
        var adaptive = new IntegratedGradients(options with { Tolerance = double.MaxValue }).Explain(_engine, _inputs, _predictions);
        var fixedMaps = new IntegratedGradients(options).Explain(_engine, _inputs, _predictions);
        for (int i = 0; i < _inputs.Count; i++)
            Assert.That(adaptive[i].Raw, Is.EqualTo(fixedMaps[i].Raw).Within(1e-5 * fixedMaps[i].Raw.Max(Math.Abs)), $"sentence {i}");
        Assert.That(adaptive.All(m => m.Diagnostics["steps"] == 5));
    }

    [Test]
    public void BadSettingsAreRefusedWithTheirReason()
    {
        string Refusal(IntegratedGradientsOptions options) =>
            Assert.Throws<FacadeException>(() => new IntegratedGradients(options).Explain(_engine, _inputs.Take(1).ToArray(), _predictions.Take(1).ToArray()))!.Message;
        Assert.That(Refusal(new() { Rule = IntegrationRule.GaussLegendre, Tolerance = 0.01 }), Does.Contain("Gauss-Legendre"));
        Assert.That(Refusal(new() { Tolerance = 0 }), Does.Contain("positive"));
        Assert.That(Refusal(new() { Steps = 8, Tolerance = 0.01, MaxSteps = 4 }), Does.Contain("most steps"));
    }
}
