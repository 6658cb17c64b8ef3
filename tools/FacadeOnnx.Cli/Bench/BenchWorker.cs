using System.Diagnostics;
using FacadeOnnx.Graph;
using FacadeOnnx.Graph.Building;
using FacadeOnnx.Runtime;
using FacadeOnnx.Runtime.Attacks;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;
using FacadeOnnx.Training;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Export;
using FacadeOnnx.Training.Facade;
using FacadeOnnx.Training.Model;
using FacadeOnnx.Training.Reference;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Cli.Bench;

public sealed record BenchSettings
{
    public required string[] Models { get; init; }
    public string[] Methods { get; init; } = BenchWorker.AllMethods;
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Cpu;
    public SaliencySettings Saliency { get; init; } = new();
    public int Limit { get; init; } = 872;
    public int Repeats { get; init; } = 3;
    public int Threads { get; init; } = Environment.ProcessorCount;
    public int BatchBudget { get; init; } = 64;
    public long MemoryBudget { get; init; } = new EngineOptions().MemoryBudget;
    public BenchTexts Texts { get; init; } = BenchTexts.Dev;
    /// <summary>Also time each model as `facade import` makes it from its forward export (the foreign-model path).</summary>
    public bool Imported { get; init; }
    public string? DataRoot { get; init; }
}

/// <summary>What the methods are timed on.</summary>
public enum BenchTexts
{
    /// <summary>The first sentences of the model's own evaluation split (SST-2 dev: 3 to 60 word pieces).</summary>
    Dev,
    /// <summary>Long texts of another domain: SQuAD dev-b paragraphs of 128 to 512 word pieces, read as single texts.</summary>
    Long,
}

/// <summary>
/// Times each method through the ONNX Runtime engine and through the TorchSharp eager reference doing the same work
/// (same weights, threads and batch budget) in one process, interleaved, after checking that both compute the same
/// numbers. Also times the gradient graph against the forward graph at 32 x 32 and against the machine's ONNX Runtime
/// matrix-multiply rate.
/// </summary>
public static class BenchWorker
{
    /// <summary>The default set: every standard saliency method (IG at 5 and 20 steps) and both attacks.</summary>
    public static readonly string[] AllMethods =
    [
        AnalysisAttribute.NameOf<SimpleGradient>(), AnalysisAttribute.NameOf<SmoothGrad>(),
        AnalysisAttribute.NameOf<IntegratedGradients>() + "5", AnalysisAttribute.NameOf<IntegratedGradients>() + "20",
        AnalysisAttribute.NameOf<LeaveOneOut>(), AnalysisAttribute.NameOf<InputReduction>(), AnalysisAttribute.NameOf<HotFlip>(),
    ];

    sealed record Pair(Action Engine, Action Torch, Func<double> Check);

    public static BenchReport Run(BenchSettings settings, TextWriter log)
    {
        TorchRuntime.Initialize(settings.Threads);
        string config = TorchRuntime.MklFixLoaded ? "mkl-fix" : "default";
        double matmul = MatMulRate(settings.Threads);
        log.WriteLine($"[{config}] ONNX Runtime matrix multiply (1024^3, {settings.Threads} threads): {matmul:F0} GFLOP/s");
        var methods = new List<MethodTiming>();
        var graphs = new List<GraphTiming>();
        string dataRoot = RepositoryPaths.ResolveDataRoot(settings.DataRoot);
        foreach (string folder in settings.Models)
        {
            var (model, manifest) = Checkpoint.Load(folder);
            string name = Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/'));
            using var files = new BenchGraphs(model, manifest, folder, settings.Imported);
            using var engine = LoadEngine(files.Pruned, settings, log);
            using (var unpruned = LoadEngine(files.Unpruned, settings, log))
            {
                var graph = TimeGraphs(name, model, engine, unpruned, matmul);
                graphs.Add(graph);
                log.WriteLine($"[{config}] {name}: 32x32 unpruned forward {graph.UnprunedForwardMs:F1} ms, gradient {graph.UnprunedGradientMs:F1} ms; " +
                              $"pruned forward {graph.ForwardMs:F1} ms, gradient {graph.GradientMs:F1} ms ({graph.GradientOverUnprunedForward:F2}x the unpruned forward), " +
                              $"{graph.AchievedGflops:F0} GFLOP/s = {graph.ShareOfMatMulRate:P0} of matmul; " +
                              $"TorchSharp forward {graph.TorchForwardMs:F1} ms, gradient {graph.TorchGradientMs:F1} ms");
            }
            var reference = new TorchAnalyses(model, settings.BatchBudget);
            var inputs = Texts(settings, manifest, engine, dataRoot);
            log.WriteLine($"[{config}] {name}: {inputs.Length} {settings.Texts.ToString().ToLowerInvariant()} texts, {inputs.Min(x => x.Length)} to {inputs.Max(x => x.Length)} word pieces");
            methods.AddRange(TimeMethods(name, engine, model, reference, inputs, settings, config, log));
            if (files.Imported is string imported)
            {
                using var importedEngine = LoadEngine(imported, settings, log);
                methods.AddRange(TimeMethods(name + " (imported)", importedEngine, model, reference, inputs, settings, config, log));
            }
        }
        return new BenchReport(Environment.MachineName, settings.Threads, config, TorchRuntime.MklFixLoaded, methods, graphs);
    }

    /// <summary>An engine on one of the bench's gradient models, with the settings' device, threads and budgets.</summary>
    internal static GradientEngine LoadEngine(string path, BenchSettings settings, TextWriter log) => GradientEngine.Load(path, new EngineOptions
    {
        Device = settings.Device, Threads = settings.Threads, BatchBudget = settings.BatchBudget, MemoryBudget = settings.MemoryBudget,
        MaxLength = settings.Texts == BenchTexts.Long ? LongTexts.Longest : null, Log = log,
    });

    /// <summary>The texts the settings name: the model's evaluation split, or the long-text set.</summary>
    internal static TokenizedInput[] Texts(BenchSettings settings, CheckpointManifest manifest, GradientEngine engine, string dataRoot)
    {
        if (settings.Texts == BenchTexts.Long) return LongTexts.Read(dataRoot, engine.Tokenizer, settings.Limit);
        var task = Tasks.Get(manifest.Task);
        return task.Load(dataRoot, task.EvalSplit).Examples.Take(settings.Limit).Select(e => engine.Encode(e.Text, e.Pair)).ToArray();
    }

    /// <summary>Every method of the settings on one engine, each against the TorchSharp reference, interleaved.</summary>
    static IEnumerable<MethodTiming> TimeMethods(string name, GradientEngine engine, BertClassifier model, TorchAnalyses reference,
        TokenizedInput[] inputs, BenchSettings settings, string config, TextWriter log)
    {
        foreach (string method in settings.Methods)
        {
            var pair = Create(method, settings.Saliency, engine, model, reference, inputs);
            double difference = pair.Check();
            var engineTimes = new List<double>();
            var torchTimes = new List<double>();
            double enginePeak = 0, torchPeak = 0;
            for (int r = 0; r < settings.Repeats; r++)
            {
                // Alternate which side goes first so that drift on a noisy machine hits both alike.
                var order = r % 2 == 0 ? new[] { true, false } : [false, true];
                foreach (bool isEngine in order)
                {
                    using var memory = new MemorySampler();
                    var clock = Stopwatch.StartNew();
                    (isEngine ? pair.Engine : pair.Torch)();
                    double seconds = clock.Elapsed.TotalSeconds;
                    memory.Dispose();
                    if (isEngine) { engineTimes.Add(seconds); enginePeak = Math.Max(enginePeak, memory.PeakMB); }
                    else { torchTimes.Add(seconds); torchPeak = Math.Max(torchPeak, memory.PeakMB); }
                }
            }
            var timing = new MethodTiming(name, method, inputs.Length, config, [.. engineTimes], [.. torchTimes], enginePeak, torchPeak, difference);
            log.WriteLine($"[{config}] {name} {method}: engine {timing.EngineSentencesPerSecond:F1} sent/s, TorchSharp {timing.TorchSentencesPerSecond:F1} sent/s, " +
                          $"engine {timing.SpeedupMedian:F2}x faster (range {timing.SpeedupMin:F2}-{timing.SpeedupMax:F2}), engine peak {timing.EnginePeakMB:F0} MB");
            yield return timing;
        }
    }

    /// <summary>Both implementations of one method over the inputs, and a check that they agree (max score difference
    /// relative to the largest score, or the share of attacks that differ) on the first 8 inputs.</summary>
    static Pair Create(string method, SaliencySettings settings, GradientEngine engine, BertClassifier model, TorchAnalyses reference, TokenizedInput[] inputs)
    {
        var sample = inputs.Take(8).ToArray();
        if (method == AnalysisAttribute.NameOf<InputReduction>())
        {
            var reduction = new InputReduction();
            return new Pair(
                () => reduction.Run(engine, inputs, engine.Predict(inputs)),
                () => { var labels = reference.Predict(inputs); for (int i = 0; i < inputs.Length; i++) reference.InputReduction(inputs[i], labels[i]); },
                () =>
                {
                    var ours = reduction.Run(engine, sample, engine.Predict(sample));
                    var labels = reference.Predict(sample);
                    double differ = sample.Select((x, i) => ours[i].KeptPositions.SequenceEqual(reference.InputReduction(x, labels[i]).KeptPositions) ? 0.0 : 1.0).Average();
                    if (differ > 0.25) throw new FacadeException($"bench: input reduction differs on {differ:P0} of the check inputs; refusing to time it.");
                    return differ;
                });
        }
        if (method == AnalysisAttribute.NameOf<HotFlip>())
        {
            var hotflip = new HotFlip();
            var candidates = HotFlip.CandidateIds(engine.Tokenizer);
            HotFlipResult Reference(TokenizedInput x, int label) => reference.HotFlip(x, label, candidates, engine.Tokenizer.IdToToken);
            return new Pair(
                () => hotflip.Run(engine, inputs, engine.Predict(inputs)),
                () => { var labels = reference.Predict(inputs); for (int i = 0; i < inputs.Length; i++) Reference(inputs[i], labels[i]); },
                () =>
                {
                    var ours = hotflip.Run(engine, sample, engine.Predict(sample));
                    var labels = reference.Predict(sample);
                    double differ = sample.Select((x, i) => ours[i].Trace.Select(f => f.ToId).SequenceEqual(Reference(x, labels[i]).Trace.Select(f => f.ToId)) ? 0.0 : 1.0).Average();
                    if (differ > 0.25) throw new FacadeException($"bench: HotFlip differs on {differ:P0} of the check inputs; refusing to time it.");
                    return differ;
                });
        }
        var saliency = SaliencyMethods.Create(method, settings);
        // TorchSaliency predicts the labels itself (the engine's methods get them from its forward session).
        IReadOnlyList<float[]> Torch(TokenizedInput[] x) => saliency is LeaveOneOut
            ? reference.LeaveOneOut(x, reference.Predict(x)).Select(r => r.Raw).ToArray()
            : TorchSaliency.Explain(model, x, saliency, reference.BatchBudget).Select(m => m.Raw).ToArray();
        return new Pair(
            () => saliency.Explain(engine, inputs, engine.Predict(inputs)),
            () => Torch(inputs),
            () =>
            {
                var ours = saliency.Explain(engine, sample, engine.Predict(sample));
                var theirs = Torch(sample);
                double worst = ours.Zip(theirs, (a, b) => a.Raw.Zip(b, (x, y) => Math.Abs(x - y)).Max() / Math.Max(1e-12, b.Max(Math.Abs))).Max();
                if (worst > 1e-3) throw new FacadeException($"bench: {method} differs between the engine and TorchSharp by {worst:E2} of the largest score; refusing to time it.");
                return worst;
            });
    }

    /// <summary>Forward and gradient graphs at batch 32 x 32 tokens, pruned (the default export) and unpruned, and
    /// TorchSharp's, after warm-up.</summary>
    static GraphTiming TimeGraphs(string name, BertClassifier model, GradientEngine engine, GradientEngine unpruned, double matmul)
    {
        const int batch = 32, tokens = 32;
        var random = new Random(7);
        var samples = Enumerable.Range(0, batch).Select(_ =>
        {
            var ids = Enumerable.Range(0, tokens).Select(t => t == 0 ? engine.Tokenizer.ClsId : t == tokens - 1 ? engine.Tokenizer.SepId : random.Next(2000, 20000)).ToArray();
            return engine.Sample(ids, new int[tokens]);
        }).ToArray();
        var times = AlternatingBlocks([
            () => unpruned.Logits(samples, (_, _, _) => { }), () => engine.Gradients(samples, (_, _, _) => { }),
            () => engine.Logits(samples, (_, _, _) => { }), () => unpruned.Gradients(samples, (_, _, _) => { })]);

        var embeds = tensor(samples.SelectMany(s => s.Embeddings).ToArray(), [batch, tokens, engine.Hidden]);
        var mask = ones(batch, tokens, dtype: int64);
        var types = zeros(batch, tokens, dtype: int64);
        model.eval();
        void TorchForward() { using var scope = NewDisposeScope(); using var _ = no_grad(); model.LogitsFromEmbeddings(embeds, mask, types); }
        void TorchGradient()
        {
            using var scope = NewDisposeScope();
            var e = embeds.detach().requires_grad_();
            var z = model.LogitsFromEmbeddings(e, mask, types);
            var loss = nn.functional.cross_entropy(z, z.argmax(-1), reduction: nn.Reduction.Sum);
            autograd.grad([loss], [e]);
        }
        for (int i = 0; i < 15; i++) TorchGradient();   // libtorch's allocator settles slowly
        var torch = AlternatingBlocks([TorchForward, TorchGradient], blocks: 4);
        return new GraphTiming(name, batch, tokens, times[2], times[1], times[0], times[3], torch[0], torch[1],
                               GradientFlop(model.Config, batch, tokens, pruned: true) / 1e9, matmul);
    }

    /// <summary>The matrix-multiply work of a gradient graph: backward to the activations (no weight gradients) costs
    /// each linear's forward again and attention's twice. In a pruned last layer only keys and values see every
    /// position; queries, attention output and the feed-forward block see one row, and attention one query.</summary>
    public static double GradientFlop(BertConfig c, int batch, int tokens, bool pruned)
    {
        double h = c.Hidden, i = c.Intermediate;
        double Linear(double rows, double width) => 2.0 * batch * rows * width;
        double fullLayer = Linear(tokens, 4 * h * h + 2 * h * i);
        double fullAttention = 4.0 * batch * tokens * tokens * h;
        double linear = c.Layers * fullLayer, attention = c.Layers * fullAttention;
        if (pruned)
        {
            linear += Linear(tokens, 2 * h * h) + Linear(1, 2 * h * h + 2 * h * i) - fullLayer;
            attention += 4.0 * batch * tokens * h - fullAttention;
        }
        return 2 * linear + 3 * attention;
    }

    /// <summary>Median milliseconds of each action, each timed in blocks of consecutive runs (its steady state), the
    /// blocks rotating through the actions in an order that reverses every round, so that drift on a noisy machine
    /// reaches all alike. The first run of each block is not counted: ONNX Runtime's threads of the other session are
    /// still spinning then (a run right after the other action took up to 1.5x as long).</summary>
    static double[] AlternatingBlocks(Action[] actions, int blocks = 6, int perBlock = 6)
    {
        for (int i = 0; i < 3; i++) foreach (var action in actions) action();
        var times = actions.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < blocks; round++)
            for (int k = 0; k < actions.Length; k++)
            {
                int which = round % 2 == 0 ? k : actions.Length - 1 - k; // A B C D, D C B A, ...
                for (int i = 0; i < perBlock; i++)
                {
                    var clock = Stopwatch.StartNew();
                    actions[which]();
                    if (i > 0) times[which].Add(clock.Elapsed.TotalMilliseconds);
                }
            }
        return times.Select(MethodTiming.Median).ToArray();
    }

    static double Median(Action action, int runs)
    {
        for (int i = 0; i < 5; i++) action();
        var times = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return MethodTiming.Median(times);
    }

    /// <summary>ONNX Runtime's matrix-multiply rate on this machine: C = A B with 1024 x 1024 operands.</summary>
    public static double MatMulRate(int threads)
    {
        const int n = 1024;
        var onnx = GraphBuilder.NewModel("matmul");
        var b = new GraphBuilder(onnx);
        b.Input("a", DataType.Float, n, n);
        b.Input("b", DataType.Float, n, n);
        b.Named("c", "MatMul", ["a", "b"]);
        b.Output("c");
        using var session = OrtEnvironment.CreateSession(OnnxFile.ToBytes(onnx), threads);
        var random = new Random(1);
        var data = Enumerable.Range(0, n * n).Select(_ => (float)random.NextDouble()).ToArray();
        using var a = OrtValue.CreateTensorValueFromMemory(data, [n, n]);
        using var bb = OrtValue.CreateTensorValueFromMemory(data.ToArray(), [n, n]);
        using var run = new RunOptions();
        double ms = Median(() => { using var r = session.Run(run, ["a", "b"], [a, bb], ["c"]); }, 20);
        return 2.0 * n * n * n / (ms / 1000) / 1e9;
    }
}
