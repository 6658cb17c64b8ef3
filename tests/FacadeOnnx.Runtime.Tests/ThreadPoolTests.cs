using System.Diagnostics;
using FacadeOnnx.Runtime.Engine;
using Microsoft.ML.OnnxRuntime;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// Every engine's sessions run on the process's one ONNX Runtime thread pool: loading and running a second engine
/// (two more sessions) adds no threads, where two sessions with pools of their own add a pool's worth each.
/// Measured as deltas of the process's thread count, so it does not matter what ran before.
/// </summary>
[TestFixture]
public class ThreadPoolTests
{
    [Test]
    public void ASecondEngineAddsNoThreadsWherePerSessionPoolsWould()
    {
        OrtEnvironment.Ensure();
        string path = AuditModels.PathOf("target-a");
        using var first = GradientEngine.Load(path, new EngineOptions { Log = TextWriter.Null });
        Exercise(first);
        Assert.That(OrtEnvironment.SharedPool, Is.True, "the engine's sessions run on the shared pool");
        int pool = OrtEnvironment.PoolThreads ?? OrtEnvironment.DefaultThreads;

        // A second engine asking for more threads than the pool has: it runs on the pool as it is, and says so.
        int asked = pool + 6;
        var log = new StringWriter();
        int before = ThreadCount();
        using var second = GradientEngine.Load(path, new EngineOptions { Threads = asked, Log = log });
        Exercise(second);
        int shared = ThreadCount() - before;

        // What the second engine's two sessions cost with pools of their own (as before the shared pool).
        byte[] bytes = File.ReadAllBytes(path);
        before = ThreadCount();
        using (var options = new SessionOptions { IntraOpNumThreads = asked, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR })
        using (var gradient = new InferenceSession(bytes, options))
        using (var forward = new InferenceSession(bytes, options))
        {
            int perSession = ThreadCount() - before;
            TestContext.Out.WriteLine($"pool {pool} threads; second engine (asked for {asked}) added {shared} threads; " +
                                      $"two sessions with {asked} threads each added {perSession}");
            Assert.That(perSession, Is.GreaterThanOrEqualTo(2 * (asked - 1)), "a session with its own pool starts threads - 1 threads");
            Assert.That(shared, Is.LessThanOrEqualTo(1), "the second engine's sessions start no threads of their own");
        }
        Assert.That(log.ToString(), Does.Contain($"thread pool of {pool} threads").And.Contain($"not on the {asked} threads"));
        Assert.That(log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(1), "one note");
    }

    [Test]
    public void AnEngineAskingForThePoolsSizeWritesNoNote()
    {
        OrtEnvironment.Ensure();
        var log = new StringWriter();
        using var engine = GradientEngine.Load(AuditModels.PathOf("target-a"),
            new EngineOptions { Threads = OrtEnvironment.PoolThreads ?? OrtEnvironment.DefaultThreads, Log = log });
        Exercise(engine);
        Assert.That(log.ToString(), Is.Empty);
    }

    /// <summary>Runs both sessions of the engine.</summary>
    static void Exercise(GradientEngine engine)
    {
        var input = engine.Encode("a gorgeous , witty , seductive movie .");
        Assert.That(engine.Predict([input]), Has.Count.EqualTo(1));
        int calls = 0;
        engine.Gradients([engine.Sample(input)], (_, _, gradient) => { calls++; Assert.That(gradient.Length, Is.EqualTo(input.Length * engine.Hidden)); });
        Assert.That(calls, Is.EqualTo(1));
    }

    /// <summary>The process's threads now (Linux: the entries of /proc/self/task).</summary>
    static int ThreadCount()
    {
        if (Directory.Exists("/proc/self/task")) return Directory.GetDirectories("/proc/self/task").Length;
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.Threads.Count;
    }
}
