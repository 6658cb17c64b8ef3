using System.Security.Cryptography;

namespace FacadeOnnx.Runtime.Audit;

/// <summary>What one shard did: its slice, where its folder is, and whether this run measured anything.</summary>
public sealed record ShardResult(ShardSlice Slice, string Folder, ShardMarker Marker, bool AlreadyComplete);

/// <summary>
/// One shard of an audit spread over processes or machines (docs/design.md section 8): measures the chunks of its
/// <see cref="ShardSlice"/> into <c>OUT/shard-I-of-N/</c>, one file per chunk and model, and writes the completion
/// marker last. The chunk files are the same files a one-process audit keeps as its resumable state, written the same
/// way (complete, deterministic content, renamed into place from a uniquely named temporary file), so a shard killed at
/// any moment and started again keeps its finished chunks and measures the rest, and two processes running the same
/// shard at once only duplicate work: each rename puts the same bytes in place. No report is written; `facade audit
/// merge` (<see cref="ShardMerge"/>) makes it from all shards.
/// </summary>
public static class AuditShard
{
    public static ShardResult Run(AuditOptions options, ShardSpec shard, string modelPath, string? comparePath = null, TextWriter? log = null)
    {
        log ??= Console.Error;
        using var plan = AuditPlan.Create(options, modelPath, comparePath, log);
        var slice = ShardSlice.Of(plan, shard);
        string folder = Path.Combine(options.OutputFolder, shard.FolderName);
        var started = ShardMarker.For(plan, slice);
        Claim(folder, started);

        string completePath = Path.Combine(folder, ShardMarker.CompleteFile);
        if (ShardMarker.Read(completePath, folder) is { } done && done.Identity() == started.Identity() && done.Shard == started.Shard)
        {
            log.WriteLine($"Shard {shard} is already complete in {folder}.");
            return new ShardResult(slice, folder, done, AlreadyComplete: true);
        }
        log.WriteLine($"Shard {shard}: {slice.RecordCount} of {plan.Inputs.Length} records ({slice.Chunks.Length} of {plan.Chunks} chunks, " +
                      $"{slice.Pieces} word pieces) into {folder}.");
        var (_, seconds) = AuditRunner.Measure(plan, folder, slice.Chunks, log);
        var marker = started with
        {
            RecordsSha256 = plan.Subjects.ToDictionary(s => s.Role, s => RecordsHash(ChunkFiles(folder, plan, s, slice))),
            Seconds = seconds,
            Host = Environment.MachineName,
            FinishedAt = DateTime.UtcNow.ToString("O"),
        };
        AtomicFile.WriteAllText(completePath, marker.ToJson());
        return new ShardResult(slice, folder, marker, AlreadyComplete: false);
    }

    /// <summary>The chunk files of <paramref name="subject"/> in <paramref name="slice"/>, in input order.</summary>
    internal static IEnumerable<string> ChunkFiles(string folder, AuditPlan plan, AuditSubject subject, ShardSlice slice) =>
        slice.Chunks.Select(c => AuditRunner.ChunkPath(folder, subject, c));

    /// <summary>SHA-256 of the files' bytes one after the other: what the completion marker says a shard's records are.</summary>
    public static string RecordsHash(IEnumerable<string> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files) hash.AppendData(File.ReadAllBytes(file));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Makes <paramref name="folder"/> this shard's, or refuses when it holds another audit's or shard's records.</summary>
    static void Claim(string folder, ShardMarker started)
    {
        string path = Path.Combine(folder, ShardMarker.StartedFile);
        var existing = ShardMarker.Read(path, folder);
        if (existing == null)
        {
            Directory.CreateDirectory(folder);
            AtomicFile.WriteAllText(path, started.ToJson());
            return;
        }
        if (existing.Shard != started.Shard || existing.Identity() != started.Identity())
            throw new FacadeException($"{folder} holds shard {existing.Shard}/{existing.Shards} of another audit " +
                                      $"({ShardMerge.Difference(started, existing)}); give another --out or remove that folder.");
    }
}
