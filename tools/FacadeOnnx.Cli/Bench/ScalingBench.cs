using System.Diagnostics;
using System.Globalization;
using System.Text;
using FacadeOnnx.Graph;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime;
using FacadeOnnx.Runtime.Attacks;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Export;

namespace FacadeOnnx.Cli.Bench;

/// <summary>
/// How each method's cost grows with sentence length (16 to 256 word pieces, batch budget fixed) and how throughput
/// grows with the batch budget (32 word pieces): engine time per sentence on synthetic sentences of real vocabulary
/// words, written as a Markdown table and two PNG plots.
/// </summary>
public static class ScalingBench
{
    public static readonly int[] Lengths = [16, 32, 64, 128, 256];
    public static readonly int[] Budgets = [1, 2, 4, 8, 16, 32, 64];
    static readonly (string Name, SaliencyMethod Method)[] Methods = BenchWorker.AllMethods
        .Where(name => name != AnalysisAttribute.NameOf<InputReduction>() && name != AnalysisAttribute.NameOf<HotFlip>())
        .Select(name => (name, SaliencyMethods.Create(name))).ToArray();

    public static string Run(string checkpoint, string outputFolder, int threads, int sentences, TextWriter log)
    {
        var (model, manifest) = Checkpoint.Load(checkpoint);
        string onnx = Path.Combine(Path.GetTempPath(), $"facade-scaling-{Environment.ProcessId}.onnx");
        OnnxFile.Write(BertOnnxExporter.Gradient(model, manifest, checkpoint), onnx);
        try
        {
            var byLength = new Dictionary<string, double[]>();
            using (var engine = GradientEngine.Load(onnx, new EngineOptions { Threads = threads, Log = log, MemoryBudget = 8L << 30 }))
            {
                foreach (var (methodName, method) in Methods)
                {
                    byLength[methodName] = Lengths.Select(length =>
                    {
                        var inputs = Synthetic(engine.Tokenizer, length, sentences);
                        var predictions = engine.Predict(inputs);
                        method.Explain(engine, inputs.Take(2).ToArray(), predictions.Take(2).ToArray());
                        var clock = Stopwatch.StartNew();
                        method.Explain(engine, inputs, predictions);
                        double ms = clock.Elapsed.TotalMilliseconds / sentences;
                        log.WriteLine($"scaling: {methodName} at {length} tokens: {ms:F1} ms per sentence");
                        return ms;
                    }).ToArray();
                }
            }
            var byBudget = Budgets.Select(budget =>
            {
                using var engine = GradientEngine.Load(onnx, new EngineOptions { Threads = threads, BatchBudget = budget, Log = log });
                var inputs = Synthetic(engine.Tokenizer, 32, 64);
                var predictions = engine.Predict(inputs);
                var method = new IntegratedGradients();
                method.Explain(engine, inputs.Take(4).ToArray(), predictions.Take(4).ToArray());
                var clock = Stopwatch.StartNew();
                method.Explain(engine, inputs, predictions);
                double rate = inputs.Count / clock.Elapsed.TotalSeconds;
                log.WriteLine($"scaling: IG-5 with batch budget {budget}: {rate:F1} sentences/s");
                return rate;
            }).ToArray();

            Directory.CreateDirectory(outputFolder);
            string name = Path.GetFileName(Path.GetFullPath(checkpoint).TrimEnd('/'));
            var lengthPlot = new ScottPlot.Plot();
            foreach (var (method, values) in byLength)
            {
                var line = lengthPlot.Add.Scatter(Lengths.Select(l => (double)l).ToArray(), values);
                line.LegendText = method;
            }
            lengthPlot.Axes.Bottom.Label.Text = "sentence length (word pieces)";
            lengthPlot.Axes.Left.Label.Text = "engine time per sentence (ms)";
            lengthPlot.Title($"{name}: cost of each method vs length ({threads} threads)");
            lengthPlot.ShowLegend(ScottPlot.Alignment.UpperLeft); // the lines end at the right, under a default legend
            string lengthPng = Path.Combine(outputFolder, "scaling-length.png");
            AtomicFile.WriteVia(lengthPng, p => lengthPlot.SavePng(p, 800, 500));
            var budgetPlot = new ScottPlot.Plot();
            budgetPlot.Add.Scatter(Budgets.Select(b => (double)b).ToArray(), byBudget);
            budgetPlot.Axes.Bottom.Label.Text = "batch budget (samples per ONNX Runtime run)";
            budgetPlot.Axes.Left.Label.Text = "IG-5 sentences per second (32 word pieces)";
            budgetPlot.Title($"{name}: throughput vs batch budget ({threads} threads)");
            string budgetPng = Path.Combine(outputFolder, "scaling-batch.png");
            AtomicFile.WriteVia(budgetPng, p => budgetPlot.SavePng(p, 800, 500));

            var table = new StringBuilder($"Engine time per sentence (ms), {name}, {threads} threads:\n\n| length | {string.Join(" | ", byLength.Keys)} |\n|---|{string.Concat(byLength.Keys.Select(_ => "---|"))}\n");
            for (int i = 0; i < Lengths.Length; i++)
                table.Append($"| {Lengths[i]} | {string.Join(" | ", byLength.Values.Select(v => v[i].ToString("F1", CultureInfo.InvariantCulture)))} |\n");
            table.Append($"\nIG-5 throughput vs batch budget (32 word pieces):\n\n| batch budget | {string.Join(" | ", Budgets)} |\n|---|{string.Concat(Budgets.Select(_ => "---|"))}\n");
            table.Append($"| sentences/s | {string.Join(" | ", byBudget.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))} |\n");
            AtomicFile.WriteAllText(Path.Combine(outputFolder, "scaling.md"), table.ToString());
            return table.ToString();
        }
        finally
        {
            File.Delete(onnx);
        }
    }

    /// <summary>Sentences of exactly <paramref name="length"/> word pieces made of common whole-word vocabulary entries.</summary>
    static IReadOnlyList<TokenizedInput> Synthetic(WordPieceTokenizer tokenizer, int length, int count)
    {
        var random = new Random(length);
        var words = Enumerable.Range(2000, 8000).Select(tokenizer.IdToToken).Where(w => w.All(char.IsLetter)).ToArray();
        return Enumerable.Range(0, count).Select(_ =>
        {
            var text = string.Join(" ", Enumerable.Range(0, length * 2).Select(_ => words[random.Next(words.Length)]));
            return tokenizer.Encode(text, maxLength: length);
        }).ToArray();
    }
}
