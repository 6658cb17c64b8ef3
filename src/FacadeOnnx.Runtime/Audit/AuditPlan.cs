using System.Text.Json;
using FacadeOnnx.Runtime.Attacks;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Audit;

/// <summary>One audited model: its role in the report ("model" or "compare") and its loaded engine.</summary>
public sealed record AuditSubject(string Role, GradientEngine Engine);

/// <summary>
/// Stage 1 of an audit (docs/design.md section 8): what will be measured. Loads the data and the models once, encodes
/// the sentences, makes every analysis once (so set-up such as HotFlip's candidate list is not repeated per chunk),
/// hashes the data files once, and fingerprints the settings so that resumable state is only reused by the same audit.
/// Owns the engines.
/// </summary>
public sealed class AuditPlan : IDisposable
{
    public required AuditOptions Options { get; init; }
    public required TaskDefinition Task { get; init; }
    public required string DataRoot { get; init; }
    public required TokenizedInput[] Inputs { get; init; }
    public required int[] Gold { get; init; }
    public required StopWords StopWords { get; init; }
    public required Segment Segment { get; init; }
    public required IReadOnlyList<AuditSubject> Subjects { get; init; }
    /// <summary>Data files (relative to the data root) and their sha256, read once.</summary>
    public required Dictionary<string, string> DataFiles { get; init; }
    public required string Fingerprint { get; init; }
    public required IReadOnlyList<SaliencyMethod> Methods { get; init; }
    public InputReduction? Reduction { get; init; }
    public HotFlip? HotFlip { get; init; }

    public AuditSubject Model => Subjects[0];
    public AuditSubject? Compare => Subjects.Count > 1 ? Subjects[1] : null;
    public int Chunks => (Inputs.Length + Options.ChunkSize - 1) / Options.ChunkSize;

    /// <summary>The sentences of chunk <paramref name="chunk"/>: the first index and how many.</summary>
    public (int First, int Count) Chunk(int chunk)
    {
        int first = chunk * Options.ChunkSize;
        return (first, Math.Min(Options.ChunkSize, Inputs.Length - first));
    }

    public static AuditPlan Create(AuditOptions options, string modelPath, string? comparePath, TextWriter log)
    {
        if (!AuditOptions.Targets.Contains(options.Target))
            throw new FacadeException($"Unknown audit target '{options.Target}'; expected {string.Join(" or ", AuditOptions.Targets)}.");
        if (options.ChunkSize < 1) throw new FacadeException($"The chunk size must be at least 1 (got {options.ChunkSize}).");
        string dataRoot = RepositoryPaths.ResolveDataRoot(options.DataRoot);
        var task = Tasks.Get(options.Task);
        var dataset = task.Load(dataRoot, task.EvalSplit);
        var examples = options.Limit is int limit ? dataset.Examples.Take(limit).ToArray() : dataset.Examples.ToArray();
        if (examples.Length == 0) throw new FacadeException($"No sentences to audit in {task.Name}/{task.EvalSplit} (limit {options.Limit}).");
        var hashes = dataset.SourceFiles.Distinct().ToDictionary(f => f, Hashing.Sha256File);

        var subjects = new List<AuditSubject>();
        try
        {
            var main = Load("model", modelPath, options, task, log);
            subjects.Add(main);
            if (comparePath != null)
            {
                var other = Load("compare", comparePath, options, task, log);
                subjects.Add(other);
                if (other.Engine.Model.VocabHash != main.Engine.Model.VocabHash)
                    throw new FacadeException($"'{comparePath}' uses a different vocabulary than '{modelPath}'; the audit compares models on the same word pieces.");
            }
            var segment = options.ResolvedSegment;
            string fingerprint = Hashing.Sha256(JsonSerializer.Serialize(new
            {
                options.Task, options.Limit, options.ChunkSize, options.Attacks, segment = segment.ToString(),
                saliency = options.Saliency.ToString(), reduction = options.Reduction.ToString(), hotflip = options.HotFlip.ToString(),
                main = main.Engine.Model.Sha256, other = subjects.Count > 1 ? subjects[1].Engine.Model.Sha256 : null,
                data = dataset.SourceFiles.Select(f => hashes[f]).ToArray(),
            }))[..16];
            return new AuditPlan
            {
                Options = options,
                Task = task,
                DataRoot = dataRoot,
                Inputs = examples.Select(e => main.Engine.Encode(e.Text, e.Pair)).ToArray(),
                Gold = examples.Select(e => e.Label).ToArray(),
                StopWords = StopWords.Load(dataRoot),
                Segment = segment,
                Subjects = subjects,
                DataFiles = hashes.ToDictionary(kv => Path.GetRelativePath(dataRoot, kv.Key), kv => kv.Value),
                Fingerprint = fingerprint,
                Methods = SaliencyMethods.CreateStandard(options.Saliency),
                Reduction = options.Attacks ? new InputReduction(options.Reduction with { Segment = segment }) : null,
                HotFlip = options.Attacks ? new HotFlip(options.HotFlip with { Segment = segment }) : null,
            };
        }
        catch
        {
            foreach (var subject in subjects) subject.Engine.Dispose();
            throw;
        }
    }

    static AuditSubject Load(string role, string path, AuditOptions options, TaskDefinition task, TextWriter log)
    {
        var engine = GradientEngine.Load(path, options.Engine with { Log = log });
        if (engine.Model.NumLabels != task.LabelNames.Count)
        {
            engine.Dispose();
            throw new FacadeException($"'{engine.Model.Path}' has {engine.Model.NumLabels} labels but task {task.Name} has {task.LabelNames.Count}; audit it with its own task (--task {engine.Model.Task}).");
        }
        return new AuditSubject(role, engine);
    }

    /// <summary>The settings as report.json records them.</summary>
    public Dictionary<string, string> DescribeSettings() => new()
    {
        ["limit"] = Options.Limit?.ToString() ?? "all",
        ["chunk_size"] = Options.ChunkSize.ToString(),
        ["smoothgrad"] = $"samples {Options.Saliency.Smooth.Samples}, sigma {Options.Saliency.Smooth.Sigma}, seed {Options.Saliency.Smooth.Seed}, times input {Options.Saliency.Smooth.TimesInput}",
        ["integrated_gradients"] = $"steps {Options.Saliency.IntegratedGradients.Steps}, rule {Options.Saliency.IntegratedGradients.Rule}",
        ["leave_one_out"] = Options.Saliency.LeaveOneOut.Mode.ToString(),
        ["input_reduction"] = Options.Attacks ? $"beam {Options.Reduction.BeamSize}" : "off",
        ["hotflip"] = Options.Attacks ? $"max flips {Options.HotFlip.MaxFlips?.ToString() ?? "none"}" : "off",
        ["device"] = Model.Engine.Device.Name(),
        ["batch_budget"] = Options.Engine.BatchBudget.ToString(),
        ["verdict_block_fraction"] = Options.Thresholds.BlockFraction.ToString("G"),
        ["verdict_max_gradient_overclaim"] = Options.Thresholds.MaxGradientOverclaim.ToString("G"),
    };

    public void Dispose()
    {
        foreach (var subject in Subjects) subject.Engine.Dispose();
    }
}
