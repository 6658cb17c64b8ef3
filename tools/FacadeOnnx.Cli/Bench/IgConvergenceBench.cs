using System.Diagnostics;
using System.Globalization;
using System.Text;
using FacadeOnnx.Graph;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Export;

namespace FacadeOnnx.Cli.Bench;

/// <summary>One Integrated Gradients configuration over a set of sentences: how close to completeness, at what cost.</summary>
public sealed record IgConvergenceRow(string Configuration, IntegrationRule Rule, int Sentences, double MedianGap, double P90Gap,
    double ShareWithinTolerance, long GradientEvaluations, double MedianSteps, int MaxSteps, double Seconds);

/// <summary>
/// Integrated Gradients at fixed steps against adaptive IG (steps doubled per input until the completeness gap is
/// within the tolerance), on the engine alone: the median relative completeness gap, the gradients computed and the
/// time, each configuration timed in the same run (median of the repeats). This is what chose the audit's default.
/// </summary>
public static class IgConvergenceBench
{
    public static readonly int[] FixedSteps = [5, 10, 20, 32, 64];

    public static (string Markdown, List<IgConvergenceRow> Rows) Run(string checkpoint, BenchSettings settings, double tolerance, TextWriter log)
    {
        var (model, manifest) = Checkpoint.Load(checkpoint);
        string onnx = Path.Combine(Path.GetTempPath(), $"facade-ig-{Environment.ProcessId}.onnx");
        OnnxFile.Write(BertOnnxExporter.Gradient(model, manifest, checkpoint), onnx);
        try
        {
            using var engine = BenchWorker.LoadEngine(onnx, settings, log);
            var inputs = BenchWorker.Texts(settings, manifest, engine, RepositoryPaths.ResolveDataRoot(settings.DataRoot));
            var predictions = engine.Predict(inputs);
            var configurations = new List<(string Name, IntegratedGradientsOptions Options)>();
            foreach (var rule in new[] { IntegrationRule.LeftRiemann, IntegrationRule.Trapezoid })
            {
                foreach (int steps in FixedSteps) configurations.Add(($"fixed {steps}", new IntegratedGradientsOptions { Steps = steps, Rule = rule }));
                foreach (int start in new[] { 4, 8 })
                    configurations.Add(($"adaptive from {start}, tolerance {tolerance:G3}",
                        new IntegratedGradientsOptions { Steps = start, Rule = rule, Tolerance = tolerance, MaxSteps = settings.Saliency.IntegratedGradients.MaxSteps }));
            }
            var rows = new List<IgConvergenceRow>();
            foreach (var (name, options) in configurations)
            {
                var method = new IntegratedGradients(options);
                method.Explain(engine, inputs.Take(2).ToArray(), predictions.Take(2).ToArray());
                IReadOnlyList<SaliencyMap> maps = [];
                var seconds = new List<double>();
                for (int r = 0; r < settings.Repeats; r++)
                {
                    var clock = Stopwatch.StartNew();
                    maps = method.Explain(engine, inputs, predictions);
                    seconds.Add(clock.Elapsed.TotalSeconds);
                }
                var gaps = maps.Select(m => m.Diagnostics["completeness_gap"]).ToArray();
                var steps = maps.Select(m => m.Diagnostics["steps"]).ToArray();
                var row = new IgConvergenceRow(name, options.Rule, inputs.Length, MethodTiming.Median(gaps), Quantile(gaps, 0.9),
                    gaps.Count(g => g <= tolerance) / (double)gaps.Length, (long)maps.Sum(m => m.Diagnostics["gradient_evaluations"]),
                    MethodTiming.Median(steps), (int)steps.Max(), MethodTiming.Median(seconds));
                rows.Add(row);
                log.WriteLine($"ig convergence: {options.Rule} {name}: median gap {row.MedianGap:E2}, {row.GradientEvaluations} gradients, {row.Seconds:F2} s");
            }
            return (Render(rows, inputs.Length, tolerance, Path.GetFileName(Path.GetFullPath(checkpoint).TrimEnd('/'))), rows);
        }
        finally
        {
            File.Delete(onnx);
        }
    }

    static double Quantile(double[] values, double q)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(q * sorted.Length))];
    }

    static string Render(List<IgConvergenceRow> rows, int sentences, double tolerance, string model)
    {
        string F(double v, string f) => v.ToString(f, CultureInfo.InvariantCulture);
        var text = new StringBuilder();
        text.AppendLine($"Integrated Gradients on {model}, {sentences} sentences: relative completeness gap |sum of attributions - (L(input) - L(baseline))| / |L(input) - L(baseline)|");
        text.AppendLine();
        text.AppendLine($"| rule | configuration | median gap | 90th percentile gap | within {F(tolerance, "G3")} | gradients computed | median steps | most steps | seconds (median) |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
            text.AppendLine($"| {r.Rule} | {r.Configuration} | {F(r.MedianGap, "E2")} | {F(r.P90Gap, "E2")} | {F(r.ShareWithinTolerance * 100, "F0")}% | {r.GradientEvaluations} | " +
                            $"{F(r.MedianSteps, "F0")} | {r.MaxSteps} | {F(r.Seconds, "F2")} |");
        return text.ToString();
    }
}
