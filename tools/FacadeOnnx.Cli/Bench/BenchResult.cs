namespace FacadeOnnx.Cli.Bench;

/// <summary>One method on one model: the engine and the TorchSharp reference, timed interleaved over repeats.</summary>
public sealed record MethodTiming(
    string Model, string Method, int Sentences, string TorchConfig,
    double[] EngineSeconds, double[] TorchSeconds, double EnginePeakMB, double TorchPeakMB, double CheckedMaxDifference)
{
    public double EngineSentencesPerSecond => Sentences / Median(EngineSeconds);
    public double TorchSentencesPerSecond => Sentences / Median(TorchSeconds);
    /// <summary>How many times faster the engine is (median of per-repeat ratios), with the spread.</summary>
    public double SpeedupMedian => Median(Ratios);
    public double SpeedupMin => Ratios.Min();
    public double SpeedupMax => Ratios.Max();
    double[] Ratios => TorchSeconds.Zip(EngineSeconds, (t, e) => t / e).ToArray();

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>The gradient graph against the forward graph and the machine's matrix-multiply rate (batch x tokens):
/// the default export (last layer pruned to the [CLS] row) and the unpruned one, timed in the same run.</summary>
public sealed record GraphTiming(
    string Model, int Batch, int Tokens, double ForwardMs, double GradientMs, double UnprunedForwardMs, double UnprunedGradientMs,
    double TorchForwardMs, double TorchGradientMs, double GradientGflop, double MatMulGflops)
{
    public double GradientOverForward => GradientMs / ForwardMs;
    /// <summary>The pruned gradient graph against the unpruned forward graph (the export before pruning).</summary>
    public double GradientOverUnprunedForward => GradientMs / UnprunedForwardMs;
    public double UnprunedGradientOverForward => UnprunedGradientMs / UnprunedForwardMs;
    public double AchievedGflops => GradientGflop / (GradientMs / 1000);
    public double ShareOfMatMulRate => AchievedGflops / MatMulGflops;
}

public sealed record BenchReport(string Machine, int Threads, string TorchConfig, bool MklFixLoaded, List<MethodTiming> Methods, List<GraphTiming> Graphs);
