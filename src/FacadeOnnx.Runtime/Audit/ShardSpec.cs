using System.Collections;
using System.Globalization;

namespace FacadeOnnx.Runtime.Audit;

/// <summary>
/// Which shard of a sharded audit this process runs: shard <see cref="Index"/> (from 0) of <see cref="Count"/>
/// (docs/design.md section 8, "Audits across machines"). Given as <c>--shard I/N</c>, or read from a job array's
/// environment: Slurm's SLURM_ARRAY_TASK_ID (minus SLURM_ARRAY_TASK_MIN) and SLURM_ARRAY_TASK_COUNT, or Kubernetes'
/// JOB_COMPLETION_INDEX with <c>--shard-count N</c>.
/// </summary>
public sealed record ShardSpec(int Index, int Count)
{
    public const string SlurmTaskId = "SLURM_ARRAY_TASK_ID", SlurmTaskMin = "SLURM_ARRAY_TASK_MIN",
        SlurmTaskMax = "SLURM_ARRAY_TASK_MAX", SlurmTaskCount = "SLURM_ARRAY_TASK_COUNT", KubernetesIndex = "JOB_COMPLETION_INDEX";

    /// <summary>The shard's folder inside the audit's output folder: shard-I-of-N, I padded to N's width.</summary>
    public string FolderName => $"shard-{Index.ToString().PadLeft(Count.ToString().Length, '0')}-of-{Count}";

    public override string ToString() => $"{Index}/{Count}";

    /// <summary><c>I/N</c> with 0 &lt;= I &lt; N.</summary>
    public static ShardSpec Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !TryParseCount(parts[0], out int index) || !TryParseCount(parts[1], out int count))
            throw new FacadeException($"--shard '{text}' is not I/N (for example 0/4: the first of four shards).");
        return Checked(index, count, "--shard");
    }

    /// <summary>
    /// The shard this process runs: <paramref name="shard"/> when given (<c>off</c> for none); otherwise, with
    /// <paramref name="count"/> (--shard-count), the index from JOB_COMPLETION_INDEX or the Slurm array; otherwise the
    /// Slurm array's task when SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT are both set; otherwise null (one process).
    /// </summary>
    public static ShardSpec? Resolve(string? shard, int? count, IDictionary environment)
    {
        if (shard != null)
        {
            if (count != null) throw new FacadeException("Give either --shard I/N or --shard-count N, not both.");
            return shard == "off" ? null : Parse(shard);
        }
        string? Env(string name) => environment[name] as string is { Length: > 0 } value ? value : null;
        if (count is int n)
        {
            if (Env(KubernetesIndex) is string k)
                return Checked(ParseVariable(KubernetesIndex, k), n, $"{KubernetesIndex} with --shard-count");
            if (Env(SlurmTaskId) != null) return Checked(SlurmIndex(Env), n, $"{SlurmTaskId} with --shard-count");
            throw new FacadeException($"--shard-count {n} needs the shard's index from {KubernetesIndex} (a Kubernetes Indexed Job) or {SlurmTaskId} (a Slurm job array); neither is set. Use --shard I/N outside a job array.");
        }
        if (Env(SlurmTaskId) != null && Env(SlurmTaskCount) is string total)
        {
            int tasks = ParseVariable(SlurmTaskCount, total);
            if (Env(SlurmTaskMin) is string min && Env(SlurmTaskMax) is string max && ParseVariable(SlurmTaskMax, max) - ParseVariable(SlurmTaskMin, min) + 1 != tasks)
                throw new FacadeException($"The Slurm array has {tasks} tasks from {min} to {max}: sharding needs a contiguous array without a step (for example --array=0-{tasks - 1}).");
            return Checked(SlurmIndex(Env), tasks, SlurmTaskId);
        }
        return null;
    }

    /// <summary>The current process's environment, for <see cref="Resolve"/>.</summary>
    public static IDictionary ProcessEnvironment => Environment.GetEnvironmentVariables();

    static int SlurmIndex(Func<string, string?> env) =>
        ParseVariable(SlurmTaskId, env(SlurmTaskId)!) - (env(SlurmTaskMin) is string min ? ParseVariable(SlurmTaskMin, min) : 0);

    static ShardSpec Checked(int index, int count, string source)
    {
        if (count < 1) throw new FacadeException($"{source}: the number of shards must be at least 1 (got {count}).");
        if (index < 0 || index >= count) throw new FacadeException($"{source}: shard index {index} is outside 0..{count - 1} for {count} shards.");
        return new ShardSpec(index, count);
    }

    static int ParseVariable(string name, string value) =>
        TryParseCount(value, out int n) ? n : throw new FacadeException($"The environment variable {name}='{value}' is not a whole number.");

    static bool TryParseCount(string text, out int value) =>
        int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
