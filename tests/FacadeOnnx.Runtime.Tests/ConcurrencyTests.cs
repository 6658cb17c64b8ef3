using FacadeOnnx.Runtime.Saliency;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>One engine, many callers: concurrent calls give exactly what serial calls give.</summary>
[TestFixture]
public class ConcurrencyTests
{
    [Test]
    public void EightConcurrentCallersMatchSerialCalls()
    {
        using var engine = TinyEngine.Load(batchBudget: 8);
        var inputs = TinyEngine.Sentences(24);
        var groups = Enumerable.Range(0, 8).Select(g => inputs.Where((_, i) => i % 8 == g).ToArray()).ToArray();
        SaliencyMethod[] methods = [new SimpleGradient(), new IntegratedGradients(), new SmoothGrad(), new LeaveOneOut()];

        float[][] Work(int g)
        {
            var method = methods[g % methods.Length];
            var predictions = engine.Predict(groups[g]);
            return method.Explain(engine, groups[g], predictions).Select(m => m.Raw).ToArray();
        }

        var serial = Enumerable.Range(0, 8).Select(Work).ToArray();
        var concurrent = new float[8][][];
        var start = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, 8).Select(g => new Thread(() => { start.Wait(); concurrent[g] = Work(g); })).ToArray();
        foreach (var t in threads) t.Start();
        start.Set();
        foreach (var t in threads) t.Join();
        for (int g = 0; g < 8; g++)
            Assert.That(concurrent[g], Is.EqualTo(serial[g]), $"caller {g}");
    }
}
