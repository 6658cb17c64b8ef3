using System.CommandLine;
using FacadeOnnx.Runtime.Audit;

namespace FacadeOnnx.Cli.Commands;

/// <summary>
/// `facade audit --shard I/N` and `--shard-count N`: which shard of an audit spread over machines this process runs
/// (<see cref="ShardSpec.Resolve"/>: the option, else a Slurm job array's or a Kubernetes Indexed Job's environment).
/// </summary>
public sealed class ShardBinder
{
    readonly Option<string?> _shard = new("--shard")
    {
        Description = "Run shard I of N (from 0) of the audit into OUT/shard-I-of-N and write no report; `facade audit merge` makes it from all N. " +
                      "Shards are sets of whole chunks with about the same number of word pieces each. Default: from a Slurm job array " +
                      $"({ShardSpec.SlurmTaskId}, {ShardSpec.SlurmTaskCount}); `off` ignores it.",
        HelpName = "I/N",
    };
    readonly Option<int?> _count = new("--shard-count")
    {
        Description = $"Number of shards N, the shard's index coming from {ShardSpec.KubernetesIndex} (a Kubernetes Indexed Job with N completions) or {ShardSpec.SlurmTaskId}.",
    };

    readonly Option<int> _chunkSize = new("--chunk-size")
    {
        Description = "Sentences per resumable unit of work; shards are cut between chunks, so smaller chunks balance small sharded audits better.",
        DefaultValueFactory = _ => new AuditOptions().ChunkSize,
    };

    public void AddTo(Command command)
    {
        command.Add(_shard);
        command.Add(_count);
        command.Add(_chunkSize);
    }

    /// <summary>The options with the chunk size given.</summary>
    public AuditOptions Apply(AuditOptions options, ParseResult parse) => options with { ChunkSize = parse.GetValue(_chunkSize) };

    public ShardSpec? Shard(ParseResult parse) => ShardSpec.Resolve(parse.GetValue(_shard), parse.GetValue(_count), ShardSpec.ProcessEnvironment);

    /// <summary>Runs the shard and says what it did.</summary>
    public static int Run(AuditOptions options, ShardSpec shard, string model, string? compare)
    {
        var result = AuditShard.Run(options, shard, model, compare);
        var slice = result.Slice;
        double seconds = result.Marker.Seconds?.Values.Sum() ?? 0;
        Console.WriteLine($"shard {shard}: {slice.RecordCount} records in {slice.Chunks.Length} chunks, {slice.Pieces} word pieces" +
                          (result.AlreadyComplete ? ", already complete" : $", measured in {seconds:F1} s ({slice.RecordCount * result.Marker.Models.Count / Math.Max(seconds, 1e-9):F2} sentences/s over {result.Marker.Models.Count} model(s))") +
                          $"; marker {Path.GetFullPath(Path.Combine(result.Folder, ShardMarker.CompleteFile))}");
        Console.WriteLine($"When all {shard.Count} shards are done: facade audit merge --out {options.OutputFolder} {options.OutputFolder}");
        return 0;
    }
}
