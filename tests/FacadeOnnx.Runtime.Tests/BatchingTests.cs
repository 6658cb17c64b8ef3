using FacadeOnnx.Runtime.Saliency;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>Samples share the batch axis: a method costs as few session runs as the budget allows, with the same results.</summary>
[TestFixture]
public class BatchingTests
{
    [TestCase(5, 8, 16)]
    [TestCase(20, 6, 64)]
    [TestCase(3, 5, 7)]
    public void IntegratedGradientsUseCeilOfSamplesOverBudgetRuns(int steps, int sentences, int budget)
    {
        var inputs = TinyEngine.Sentences(sentences);
        var method = new IntegratedGradients(new IntegratedGradientsOptions { Steps = steps });
        using var batched = TinyEngine.Load(batchBudget: budget);
        var predictions = batched.Predict(inputs);
        long before = batched.GradientRuns;
        var maps = method.Explain(batched, inputs, predictions);
        long runs = batched.GradientRuns - before;
        Assert.That(runs, Is.LessThanOrEqualTo((steps * sentences + budget - 1) / budget));

        using var single = TinyEngine.Load(batchBudget: 1);
        var one = method.Explain(single, inputs, predictions);
        Assert.That(single.GradientRuns, Is.EqualTo(steps * sentences), "one sample per run");
        for (int i = 0; i < inputs.Count; i++)
        {
            double scale = one[i].Raw.Max(Math.Abs);
            // Different batch sizes change only the blocking of float32 matrix products: agreement to 1e-5 of the largest.
            for (int t = 0; t < one[i].Raw.Length; t++)
                Assert.That(maps[i].Raw[t], Is.EqualTo(one[i].Raw[t]).Within(1e-5 * scale), $"sentence {i}, token {t}");
        }
    }

    [Test]
    public void LongSequencesGetSmallerRunsUnderTheMemoryBudget()
    {
        using var engine = Engine.GradientEngine.Load(TinyEngine.GradientPath, new Engine.EngineOptions { BatchBudget = 64, MemoryBudget = 8L << 20, Log = TextWriter.Null });
        Assert.That(engine.SamplesPerRun(16), Is.GreaterThan(engine.SamplesPerRun(256)));
        Assert.That(engine.SamplesPerRun(512), Is.GreaterThanOrEqualTo(1));
    }
}
