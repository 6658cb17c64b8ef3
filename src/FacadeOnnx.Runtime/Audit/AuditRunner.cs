using System.Diagnostics;
using System.Text.Json;
using FacadeOnnx.Runtime.Faithfulness;

namespace FacadeOnnx.Runtime.Audit;

/// <summary>
/// Runs an audit as a chain of stages (docs/design.md section 8): <see cref="AuditPlan"/> (data, models, fingerprint,
/// chunks), <see cref="AuditMeasurement"/> (each chunk of sentences through every analysis), <see cref="AuditSummary"/>
/// (the paper's metrics), <see cref="AuditJudgement"/> (the verdict) and <see cref="AuditReporting"/> (report.json,
/// report.md, report.html). Each measured chunk is saved as it finishes, so an interrupted audit started again with the
/// same settings continues from its last finished chunk.
/// </summary>
public static class AuditRunner
{
    public const string StateFolder = ".audit-state";

    public static AuditReport Run(AuditOptions options, string modelPath, string? comparePath = null, TextWriter? log = null)
    {
        log ??= Console.Error;
        using var plan = AuditPlan.Create(options, modelPath, comparePath, log);
        string state = Path.Combine(options.OutputFolder, StateFolder, plan.Fingerprint);
        var (records, seconds) = Measure(plan, state, Enumerable.Range(0, plan.Chunks).ToArray(), log);
        var report = Conclude(plan, records, seconds);
        AuditReporting.Write(report, options.OutputFolder);
        Directory.Delete(state, recursive: true);
        TryDeleteIfEmpty(Path.Combine(options.OutputFolder, StateFolder));
        return report;
    }

    /// <summary>Stages 3 to 5 up to the report (not written): metrics, verdicts and samples from every model's records
    /// in input order. A merge of shards (<see cref="ShardMerge"/>) ends here too, so its reports equal a one-process audit's.</summary>
    internal static AuditReport Conclude(AuditPlan plan, Dictionary<string, SentenceRecord[]> records, Dictionary<string, double> seconds)
    {
        var options = plan.Options;
        var metrics = plan.Subjects.ToDictionary(s => s.Role, s => AuditSummary.Summarize(plan, records[s.Role]));
        var audits = plan.Subjects.ToDictionary(s => s.Role, s => new ModelAudit
        {
            Role = s.Role,
            Path = s.Engine.Model.Path,
            Sha256 = s.Engine.Model.Sha256,
            Kind = s.Engine.Model.ModelKind,
            Sentences = records[s.Role].Length,
            Accuracy = metrics[s.Role].Accuracy,
            FirstToken = metrics[s.Role].FirstToken,
            StopWords = metrics[s.Role].StopWords,
            Reduction = metrics[s.Role].Reduction,
            HotFlip = metrics[s.Role].HotFlip,
            Faithfulness = FaithfulnessMetrics.PerMethod(records[s.Role].Select(r => r.Faithfulness).ToArray()),
            Verdict = AuditJudgement.Judge(plan, s, records[s.Role]),
            Seconds = seconds[s.Role],
        });
        var compare = plan.Compare;
        var report = new AuditReport
        {
            Task = plan.TaskName,
            Split = plan.Split,
            Target = options.Target,
            Segment = plan.Segment.ToString(),
            DataFiles = plan.DataFiles,
            Input = plan.Input != null ? AuditInput.Of(plan.Input, plan.Inputs.Length) : null,
            Truncation = plan.Input != null || plan.Truncation.TextsCut > 0 ? plan.Truncation : null,
            Settings = plan.DescribeSettings(),
            LabelNames = plan.Model.Engine.Model.LabelNames,
            Model = audits[plan.Model.Role],
            Compare = compare != null ? audits[compare.Role] : null,
            Comparison = compare != null
                ? AuditSummary.Compare(plan, records[plan.Model.Role], records[compare.Role], metrics[plan.Model.Role], metrics[compare.Role])
                : null,
            Samples = AuditReporting.Samples(plan.Inputs, plan.RecordIndices, records, plan.Model.Engine.Model.LabelNames, options.HeatmapSamples),
        };
        return report;
    }

    /// <summary>The given chunks of every subject, read from the saved state where a chunk is finished, measured otherwise.</summary>
    internal static (Dictionary<string, SentenceRecord[]> Records, Dictionary<string, double> Seconds) Measure(AuditPlan plan, string state, IReadOnlyList<int> indices, TextWriter log)
    {
        var options = plan.Options;
        int chunks = indices.Count;
        var records = new Dictionary<string, SentenceRecord[]>();
        var seconds = new Dictionary<string, double>();
        int resumed = plan.Subjects.Sum(s => indices.Count(c => File.Exists(ChunkPath(state, s, c))));
        if (resumed > 0) log.WriteLine($"Resuming the audit: {resumed} of {chunks * plan.Subjects.Count} chunks are already done.");
        int computed = 0;
        using var progress = new ProgressBar("audit", (long)chunks * plan.Subjects.Count * options.ChunkSize, "sent", resumed * (long)options.ChunkSize);
        foreach (var subject in plan.Subjects)
        {
            var clock = Stopwatch.StartNew();
            var all = new List<SentenceRecord>();
            foreach (int c in indices)
            {
                var (first, count) = plan.Chunk(c);
                string path = ChunkPath(state, subject, c);
                SentenceRecord[]? chunk = File.Exists(path) ? TryRead(path) : null;
                if (chunk == null)
                {
                    progress.SetStatus($"{subject.Role}: {Path.GetFileName(subject.Engine.Model.Path)}, sentences {first + 1}-{first + count}");
                    chunk = AuditMeasurement.Measure(plan, subject, first, count);
                    AtomicFile.WriteAllText(path, JsonSerializer.Serialize(chunk));
                    progress.Advance(options.ChunkSize);
                    if (++computed == options.InterruptAfterChunks) throw new OperationCanceledException("audit interrupted (test hook)");
                }
                all.AddRange(chunk);
            }
            records[subject.Role] = all.ToArray();
            seconds[subject.Role] = clock.Elapsed.TotalSeconds;
        }
        return (records, seconds);
    }

    internal static string ChunkPath(string state, AuditSubject subject, int chunk) => Path.Combine(state, subject.Role, $"chunk-{chunk:D5}.json");

    static SentenceRecord[]? TryRead(string path)
    {
        try { return JsonSerializer.Deserialize<SentenceRecord[]>(File.ReadAllText(path)); }
        catch (JsonException) { return null; }
    }

    static void TryDeleteIfEmpty(string folder)
    {
        if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
    }
}
