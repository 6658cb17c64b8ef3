using System.Text.Json;
using FacadeOnnx.Runtime.Attacks;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Audit;

/// <summary>One audited model: its role in the report ("model" or "compare") and its loaded engine.</summary>
public sealed record AuditSubject(string Role, GradientEngine Engine);

/// <summary>
/// Stage 1 of an audit (docs/design.md section 8): what will be measured. Loads the data (a task's evaluation split or
/// a user's file) and the models once, encodes the texts, makes every analysis once (so set-up such as HotFlip's
/// candidate list is not repeated per chunk), hashes the data files once, and fingerprints the settings and data so
/// that resumable state is only reused by the same audit of the same bytes. Owns the engines.
/// </summary>
public sealed class AuditPlan : IDisposable
{
    public required AuditOptions Options { get; init; }
    /// <summary>The task named in the report: the audited split's, or with --input the given or the model's own.</summary>
    public required string TaskName { get; init; }
    /// <summary>The evaluation split's name, or the input file's name.</summary>
    public required string Split { get; init; }
    public required string DataRoot { get; init; }
    public required TokenizedInput[] Inputs { get; init; }
    /// <summary>Each input's record index in its file (the split, or the input file): the key, with the file's hash, of
    /// what an input is.</summary>
    public required int[] RecordIndices { get; init; }
    /// <summary>Gold labels; null when the input file has none (no accuracy then).</summary>
    public required int[]? Gold { get; init; }
    /// <summary>The user's file (its path, SHA-256 and records) when the audit reads one instead of a split.</summary>
    public UserCorpus? Input { get; init; }
    /// <summary>How many inputs were cut at the maximum length, and by how much.</summary>
    public required TruncationSummary Truncation { get; init; }
    public required StopWords StopWords { get; init; }
    public required Segment Segment { get; init; }
    public required IReadOnlyList<AuditSubject> Subjects { get; init; }
    /// <summary>Data files (relative to the data root) of the audited split and their sha256, read once; empty for an input file.</summary>
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
        // A split is read before the models load (its errors come first); an input file needs the model's label names.
        var task = options.Input == null || options.Task != null ? Tasks.Get(options.Task ?? AuditOptions.DefaultTask) : null;
        var dataset = options.Input == null ? task!.Load(dataRoot, task.EvalSplit) : null;
        var hashes = dataset?.SourceFiles.Distinct().ToDictionary(f => f, Hashing.Sha256File) ?? [];

        var subjects = new List<AuditSubject>();
        try
        {
            var main = Load("model", modelPath, options, task?.LabelNames, $"task {task?.Name}", log);
            subjects.Add(main);
            if (comparePath != null)
            {
                var other = Load("compare", comparePath, options, main.Engine.Model.LabelNames, task != null ? $"task {task.Name}" : $"'{main.Engine.Model.Path}'", log);
                subjects.Add(other);
                if (other.Engine.Model.VocabHash != main.Engine.Model.VocabHash)
                    throw new FacadeException($"'{comparePath}' uses a different vocabulary than '{modelPath}'; the audit compares models on the same word pieces.");
            }
            var corpus = options.Input == null ? null : UserCorpus.Read(options.Input, main.Engine.Model.LabelNames, options.Columns);
            var records = corpus != null
                ? corpus.Records.Take(options.Limit ?? int.MaxValue).Select(r => (r.Index, r.Text, r.Pair, r.Label)).ToArray()
                : dataset!.Examples.Take(options.Limit ?? int.MaxValue).Select((e, i) => (Index: i, e.Text, e.Pair, Label: (int?)e.Label)).ToArray();
            if (records.Length == 0)
                throw new FacadeException($"No sentences to audit in {(corpus != null ? corpus.Path : $"{task!.Name}/{task.EvalSplit}")} (limit {options.Limit}).");
            var segment = options.Segment ?? (records[0].Pair != null ? Text.Segment.Second : Text.Segment.All);
            var inputs = records.Select(r => main.Engine.Encode(r.Text, r.Pair)).ToArray();
            string taskName = task?.Name ?? main.Engine.Model.Task;
            string fingerprint = Hashing.Sha256(JsonSerializer.Serialize(new
            {
                Task = taskName, options.Limit, options.ChunkSize, options.Attacks, options.Faithfulness, segment = segment.ToString(),
                saliency = options.Saliency.ToString(), reduction = options.Reduction.ToString(), hotflip = options.HotFlip.ToString(),
                main = main.Engine.Model.Sha256, other = subjects.Count > 1 ? subjects[1].Engine.Model.Sha256 : null,
                data = dataset?.SourceFiles.Select(f => hashes[f]).ToArray(),
                input = corpus?.Sha256, columns = corpus?.Columns.ToString(), maxLength = main.Engine.MaxLength,
            }))[..16];
            return new AuditPlan
            {
                Options = options,
                TaskName = taskName,
                Split = corpus != null ? Path.GetFileName(corpus.Path) : task!.EvalSplit,
                DataRoot = dataRoot,
                Inputs = inputs,
                RecordIndices = records.Select(r => r.Index).ToArray(),
                Gold = records.All(r => r.Label != null) ? records.Select(r => r.Label!.Value).ToArray() : null,
                Input = corpus,
                Truncation = TruncationSummary.Of(inputs, main.Engine.MaxLength),
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

    /// <summary>Loads one model; with <paramref name="labels"/> (a task's, or for the compared model the audited one's)
    /// its label count must match theirs (<paramref name="owner"/> names whose they are).</summary>
    static AuditSubject Load(string role, string path, AuditOptions options, IReadOnlyList<string>? labels, string owner, TextWriter log)
    {
        var engine = GradientEngine.Load(path, options.Engine with { Log = log });
        if (labels != null && engine.Model.NumLabels != labels.Count)
        {
            engine.Dispose();
            throw new FacadeException($"'{engine.Model.Path}' has {engine.Model.NumLabels} labels but {owner} has {labels.Count}; audit it with its own task (--task {engine.Model.Task}).");
        }
        return new AuditSubject(role, engine);
    }

    /// <summary>The settings as report.json records them.</summary>
    public Dictionary<string, string> DescribeSettings() => new()
    {
        ["limit"] = Options.Limit?.ToString() ?? "all",
        ["chunk_size"] = Options.ChunkSize.ToString(),
        ["smoothgrad"] = $"samples {Options.Saliency.Smooth.Samples}, sigma {Options.Saliency.Smooth.Sigma}, seed {Options.Saliency.Smooth.Seed}, times input {Options.Saliency.Smooth.TimesInput}",
        ["integrated_gradients"] = Options.Saliency.IntegratedGradients is { Tolerance: double tolerance } ig
            ? $"adaptive: steps from {ig.Steps} doubled while the completeness gap is above {tolerance} (at most {ig.MaxSteps}), rule {ig.Rule}"
            : $"steps {Options.Saliency.IntegratedGradients.Steps}, rule {Options.Saliency.IntegratedGradients.Rule}",
        ["leave_one_out"] = Options.Saliency.LeaveOneOut.Mode.ToString(),
        ["input_reduction"] = Options.Attacks ? $"beam {Options.Reduction.BeamSize}" : "off",
        ["faithfulness"] = Options.Faithfulness ? new Faithfulness.FaithfulnessOptions().Describe() : "off",
        ["hotflip"] = Options.Attacks ? $"max flips {Options.HotFlip.MaxFlips?.ToString() ?? "none"}" : "off",
        ["device"] = Model.Engine.Device.Name(),
        ["batch_budget"] = Options.Engine.BatchBudget.ToString(),
        ["memory_budget_bytes"] = Options.Engine.MemoryBudget.ToString(),
        ["verdict_block_fraction"] = Options.Thresholds.BlockFraction.ToString("G"),
        ["verdict_max_gradient_overclaim"] = Options.Thresholds.MaxGradientOverclaim.ToString("G"),
    };

    public void Dispose()
    {
        foreach (var subject in Subjects) subject.Engine.Dispose();
    }
}
