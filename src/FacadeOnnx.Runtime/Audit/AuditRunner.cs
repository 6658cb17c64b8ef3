using System.Diagnostics;
using System.Text.Json;
using FacadeOnnx.Graph;
using FacadeOnnx.Runtime.Attacks;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Metrics;
using FacadeOnnx.Runtime.Metrics;
using FacadeOnnx.Runtime.Reports;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Audit;

/// <summary>
/// Runs an audit: every saliency method, input reduction and HotFlip over an evaluation split for one model (and
/// optionally a second to compare with), the paper's metrics (METHOD.md 12), the manipulation verdict, and the three
/// reports. Work is done in chunks of sentences whose results are saved as they finish, so an interrupted audit
/// started again with the same settings continues from its last finished chunk.
/// </summary>
public static class AuditRunner
{
    public const string StateFolder = ".audit-state";
    public static readonly string[] Methods = ["simple", "smooth", "ig", "loo"];

    sealed record Subject(string Role, GradientEngine Engine, string Folder);

    public static AuditReport Run(AuditOptions options, string modelPath, string? comparePath = null, TextWriter? log = null)
    {
        log ??= Console.Error;
        if (!AuditOptions.Targets.Contains(options.Target))
            throw new FacadeException($"Unknown audit target '{options.Target}'; expected {string.Join(" or ", AuditOptions.Targets)}.");
        if (options.ChunkSize < 1) throw new FacadeException($"The chunk size must be at least 1 (got {options.ChunkSize}).");
        string dataRoot = RepositoryPaths.ResolveDataRoot(options.DataRoot);
        var task = Tasks.Get(options.Task);
        var dataset = task.Load(dataRoot, task.EvalSplit);
        var examples = options.Limit is int limit ? dataset.Examples.Take(limit).ToArray() : dataset.Examples.ToArray();
        if (examples.Length == 0) throw new FacadeException($"No sentences to audit in {task.Name}/{task.EvalSplit} (limit {options.Limit}).");
        var stopWords = StopWords.Load(dataRoot);
        var segment = options.ResolvedSegment;

        var engines = new List<GradientEngine>();
        try
        {
            var main = GradientEngine.Load(modelPath, options.Engine with { Log = log });
            engines.Add(main);
            CheckTask(main, task);
            GradientEngine? other = null;
            if (comparePath != null)
            {
                other = GradientEngine.Load(comparePath, options.Engine with { Log = log });
                engines.Add(other);
                CheckTask(other, task);
                if (other.Model.VocabHash != main.Model.VocabHash)
                    throw new FacadeException($"'{comparePath}' uses a different vocabulary than '{modelPath}'; the audit compares models on the same word pieces.");
            }
            var inputs = examples.Select(e => main.Encode(e.Text, e.Pair)).ToArray();
            var gold = examples.Select(e => e.Label).ToArray();
            string fingerprint = Hashing.Sha256(JsonSerializer.Serialize(new
            {
                options.Task, options.Limit, options.ChunkSize, options.Attacks, segment = segment.ToString(),
                saliency = options.Saliency.ToString(), reduction = options.Reduction.ToString(), hotflip = options.HotFlip.ToString(),
                main = main.Model.Sha256, other = other?.Model.Sha256, data = dataset.SourceFiles.Select(Hashing.Sha256File).ToArray(),
            }))[..16];
            string state = Path.Combine(options.OutputFolder, StateFolder, fingerprint);
            var subjects = new List<Subject> { new("model", main, Path.Combine(state, "model")) };
            if (other != null) subjects.Add(new Subject("compare", other, Path.Combine(state, "compare")));

            int chunks = (inputs.Length + options.ChunkSize - 1) / options.ChunkSize;
            var records = new Dictionary<string, SentenceRecord[]>();
            var seconds = new Dictionary<string, double>();
            int resumed = subjects.Sum(s => Enumerable.Range(0, chunks).Count(c => File.Exists(ChunkPath(s.Folder, c))));
            if (resumed > 0) log.WriteLine($"Resuming the audit: {resumed} of {chunks * subjects.Count} chunks are already done.");
            int computed = 0;
            using (var progress = new ProgressBar("audit", (long)chunks * subjects.Count * options.ChunkSize, "sent", resumed * (long)options.ChunkSize))
            {
                foreach (var subject in subjects)
                {
                    var clock = Stopwatch.StartNew();
                    var all = new List<SentenceRecord>();
                    for (int c = 0; c < chunks; c++)
                    {
                        int first = c * options.ChunkSize;
                        var chunkInputs = inputs.Skip(first).Take(options.ChunkSize).ToArray();
                        string path = ChunkPath(subject.Folder, c);
                        SentenceRecord[]? chunk = File.Exists(path) ? TryRead(path) : null;
                        if (chunk == null)
                        {
                            progress.SetStatus($"{subject.Role}: {Path.GetFileName(subject.Engine.Model.Path)}, sentences {first + 1}-{first + chunkInputs.Length}");
                            chunk = Measure(subject.Engine, chunkInputs, gold.Skip(first).Take(chunkInputs.Length).ToArray(), first, options, segment);
                            AtomicFile.WriteAllText(path, JsonSerializer.Serialize(chunk));
                            progress.Advance(options.ChunkSize);
                            if (++computed == options.InterruptAfterChunks) throw new OperationCanceledException("audit interrupted (test hook)");
                        }
                        all.AddRange(chunk);
                    }
                    records[subject.Role] = all.ToArray();
                    seconds[subject.Role] = clock.Elapsed.TotalSeconds;
                }
            }

            var audits = subjects.ToDictionary(s => s.Role, s =>
                Summarize(s, records[s.Role], inputs, stopWords, segment, options, seconds[s.Role]));
            Comparison? comparison = null;
            if (other != null)
            {
                var a = records["model"];
                var b = records["compare"];
                double? iou = options.Attacks
                    ? ReductionMetrics.MeanIoU(a.Select(r => ReducedTokens(inputs[r.Index], r, segment)).ToArray(),
                                               b.Select(r => ReducedTokens(inputs[r.Index], r, segment)).ToArray())
                    : null;
                comparison = new Comparison(a.Zip(b, (x, y) => x.Predicted == y.Predicted ? 1.0 : 0.0).Average(),
                    audits["model"].Accuracy - audits["compare"].Accuracy, iou);
            }
            var report = new AuditReport
            {
                Task = task.Name,
                Split = task.EvalSplit,
                Target = options.Target,
                Segment = segment.ToString(),
                DataFiles = dataset.SourceFiles.Distinct().ToDictionary(f => Path.GetRelativePath(dataRoot, f), Hashing.Sha256File),
                Settings = Describe(options, main),
                LabelNames = main.Model.LabelNames,
                Model = audits["model"],
                Compare = other != null ? audits["compare"] : null,
                Comparison = comparison,
                Samples = Samples(inputs, records, main.Model.LabelNames, options.HeatmapSamples),
            };
            Directory.CreateDirectory(options.OutputFolder);
            AtomicFile.WriteAllText(Path.Combine(options.OutputFolder, "report.json"), report.ToJson());
            AtomicFile.WriteAllText(Path.Combine(options.OutputFolder, "report.md"), MarkdownReport.Render(report));
            AtomicFile.WriteAllText(Path.Combine(options.OutputFolder, "report.html"), HtmlReport.Render(report));
            Directory.Delete(state, recursive: true);
            TryDeleteIfEmpty(Path.Combine(options.OutputFolder, StateFolder));
            return report;
        }
        finally
        {
            foreach (var engine in engines) engine.Dispose();
        }
    }

    static void CheckTask(GradientEngine engine, TaskDefinition task)
    {
        if (engine.Model.NumLabels != task.LabelNames.Count)
            throw new FacadeException($"'{engine.Model.Path}' has {engine.Model.NumLabels} labels but task {task.Name} has {task.LabelNames.Count}; audit it with its own task (--task {engine.Model.Task}).");
    }

    static string ChunkPath(string folder, int chunk) => Path.Combine(folder, $"chunk-{chunk:D5}.json");

    static SentenceRecord[]? TryRead(string path)
    {
        try { return JsonSerializer.Deserialize<SentenceRecord[]>(File.ReadAllText(path)); }
        catch (JsonException) { return null; }
    }

    static void TryDeleteIfEmpty(string folder)
    {
        if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
    }

    /// <summary>All measurements of one chunk of sentences on one model.</summary>
    static SentenceRecord[] Measure(GradientEngine engine, TokenizedInput[] inputs, int[] gold, int first, AuditOptions options, Segment segment)
    {
        var predictions = engine.Predict(inputs);
        var maps = Methods.ToDictionary(m => m, m => SaliencyMethods.Create(m, options.Saliency).Explain(engine, inputs, predictions));
        var reductions = options.Attacks ? new InputReduction(options.Reduction with { Segment = segment }).Run(engine, inputs, predictions) : null;
        var flips = options.Attacks ? new HotFlip(options.HotFlip with { Segment = segment }).Run(engine, inputs, predictions) : null;
        return inputs.Select((input, i) => new SentenceRecord
        {
            Index = first + i,
            Gold = gold[i],
            Predicted = predictions[i].Label,
            Probability = predictions[i].Probability,
            Saliency = Methods.ToDictionary(m => m, m => maps[m][i].Normalized),
            LeaveOneOut = maps["loo"][i].Raw,
            IgCompletenessGap = maps["ig"][i].Diagnostics["completeness_gap"],
            ReducedPositions = reductions?[i].KeptPositions,
            FlipSuccess = flips?[i].Success,
            FlipPositions = flips?[i].Trace.Select(f => f.Position).ToArray(),
            FlipReplacements = flips?[i].Trace.Select(f => f.To).ToArray(),
        }).ToArray();
    }

    static string[] ReducedTokens(TokenizedInput input, SentenceRecord record, Segment segment) =>
        record.ReducedPositions!.Where(p => !input.Spans[p].IsSpecial && InputReduction.InSegment(input, p, segment)).Select(p => input.Tokens[p]).ToArray();

    static ModelAudit Summarize(Subject subject, SentenceRecord[] records, TokenizedInput[] inputs, StopWords stopWords, Segment segment, AuditOptions options, double seconds)
    {
        var stops = records.Select(r => stopWords.Positions(inputs[r.Index], segment)).ToArray();
        var firstToken = Methods.ToDictionary(m => m, m => SaliencyMetrics.FirstToken(records.Select(r => (IReadOnlyList<float>)r.Saliency[m]).ToArray()));
        var stopMetrics = Methods.ToDictionary(m => m, m => SaliencyMetrics.Evaluate(records.Select(r => (IReadOnlyList<float>)r.Saliency[m]).ToArray(), stops));
        ReductionSummary? reduction = null;
        HotFlipSummary? hotflip = null;
        if (options.Attacks)
        {
            var original = records.Select(r => (IReadOnlyList<string>)Enumerable.Range(0, inputs[r.Index].Length)
                .Where(p => !inputs[r.Index].Spans[p].IsSpecial && InputReduction.InSegment(inputs[r.Index], p, segment))
                .Select(p => inputs[r.Index].Tokens[p]).ToArray()).ToArray();
            reduction = ReductionMetrics.Summarize(original, records.Select(r => (IReadOnlyList<string>)ReducedTokens(inputs[r.Index], r, segment)).ToArray(), stopWords.Contains);
            hotflip = HotFlipMetrics.Summarize(records.Select(r => new FlipOutcome(r.FlipSuccess == true, r.FlipPositions!.Length,
                r.FlipPositions.Select(p => stopWords.Contains(inputs[r.Index].Tokens[p])).ToArray(),
                r.FlipPositions.Select(p => p == 1).ToArray())).ToArray());
        }
        var behaviour = Behaviour(records, inputs);
        var structure = StructuralForensics.Analyze(subject.Engine.Graph);
        return new ModelAudit
        {
            Role = subject.Role,
            Path = subject.Engine.Model.Path,
            Sha256 = subject.Engine.Model.Sha256,
            Kind = subject.Engine.Model.ModelKind,
            Sentences = records.Length,
            Accuracy = records.Average(r => r.Predicted == r.Gold ? 1.0 : 0.0),
            FirstToken = firstToken,
            StopWords = stopMetrics,
            Reduction = reduction,
            HotFlip = hotflip,
            Verdict = ManipulationVerdict.Decide(structure, behaviour, options.Thresholds),
            Seconds = seconds,
        };
    }

    /// <summary>
    /// How gradient methods relate to leave-one-out over the non-special tokens: rank agreement (Spearman) and the
    /// overclaim of the gradient's top token; plus IG's median completeness gap.
    /// </summary>
    public static BehaviouralSignals Behaviour(IReadOnlyList<SentenceRecord> records, IReadOnlyList<TokenizedInput> inputs)
    {
        (double Agreement, double Overclaim) Compare(string method)
        {
            var rhos = new List<double>();
            var overclaims = new List<double>();
            foreach (var r in records)
            {
                var positions = Enumerable.Range(0, inputs[r.Index].Length).Where(p => !inputs[r.Index].Spans[p].IsSpecial).ToArray();
                if (positions.Length < 3) continue;
                double[] gradient = Renormalize(positions.Select(p => (double)r.Saliency[method][p]));
                double[] loo = Renormalize(positions.Select(p => Math.Abs((double)r.LeaveOneOut[p])));
                double rho = SaliencyMetrics.Spearman(gradient, loo);
                if (!double.IsNaN(rho)) rhos.Add(rho);
                int top = Array.IndexOf(gradient, gradient.Max());
                overclaims.Add(gradient[top] - loo[top]);
            }
            return (rhos.Count == 0 ? double.NaN : rhos.Average(), overclaims.Count == 0 ? double.NaN : overclaims.Average());
        }
        var gaps = records.Select(r => r.IgCompletenessGap).Where(double.IsFinite).OrderBy(g => g).ToArray();
        var simple = Compare("simple");
        var smooth = Compare("smooth");
        return new BehaviouralSignals(simple.Agreement, smooth.Agreement, simple.Overclaim, smooth.Overclaim,
            gaps.Length == 0 ? double.NaN : gaps[gaps.Length / 2], records.Count);
    }

    static double[] Renormalize(IEnumerable<double> values)
    {
        var array = values.ToArray();
        double total = array.Sum();
        return total == 0 ? array.Select(_ => 1.0 / array.Length).ToArray() : array.Select(v => v / total).ToArray();
    }

    static Dictionary<string, string> Describe(AuditOptions options, GradientEngine engine) => new()
    {
        ["limit"] = options.Limit?.ToString() ?? "all",
        ["chunk_size"] = options.ChunkSize.ToString(),
        ["smoothgrad"] = $"samples {options.Saliency.Smooth.Samples}, sigma {options.Saliency.Smooth.Sigma}, seed {options.Saliency.Smooth.Seed}, times input {options.Saliency.Smooth.TimesInput}",
        ["integrated_gradients"] = $"steps {options.Saliency.IntegratedGradients.Steps}, rule {options.Saliency.IntegratedGradients.Rule}",
        ["leave_one_out"] = options.Saliency.LeaveOneOut.Mode.ToString(),
        ["input_reduction"] = options.Attacks ? $"beam {options.Reduction.BeamSize}" : "off",
        ["hotflip"] = options.Attacks ? $"max flips {options.HotFlip.MaxFlips?.ToString() ?? "none"}" : "off",
        ["device"] = engine.Device.Name(),
        ["batch_budget"] = options.Engine.BatchBudget.ToString(),
        ["verdict_block_fraction"] = options.Thresholds.BlockFraction.ToString("G"),
        ["verdict_max_gradient_overclaim"] = options.Thresholds.MaxGradientOverclaim.ToString("G"),
    };

    static List<SampleSentence> Samples(TokenizedInput[] inputs, Dictionary<string, SentenceRecord[]> records, string[] labels, int count)
    {
        int n = Math.Min(count, inputs.Length);
        return Enumerable.Range(0, n).Select(k => k * inputs.Length / Math.Max(1, n)).Distinct().Select(i => new SampleSentence(
            i, inputs[i].Tokens,
            records.ToDictionary(kv => kv.Key, kv => kv.Value[i].Saliency),
            records.ToDictionary(kv => kv.Key, kv => $"{labels[kv.Value[i].Predicted]} ({kv.Value[i].Probability:P0})"))).ToList();
    }
}
