using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FacadeOnnx.Runtime.Audit;

/// <summary>
/// `facade audit merge`: the report of a sharded audit (docs/design.md section 8). Checks that the N completion markers
/// are all there and agree (settings, models, input, N, ONNX Runtime and execution provider), that every chunk file is
/// whole and is what its marker says, and that every record of the input is there exactly once; then rebuilds the plan
/// from the shards' settings and ends the audit through the same stages as a one-process audit
/// (<see cref="AuditRunner.Conclude"/>, <see cref="AuditReporting"/>), so the two reports are equal. Anything missing,
/// corrupt, foreign or half-written is refused, naming the shard and what is wrong.
/// </summary>
public static class ShardMerge
{
    public static AuditReport Run(IReadOnlyList<string> paths, string outputFolder, TextWriter? log = null,
        string? modelPath = null, string? comparePath = null, int? threads = null, string? dataRoot = null, string? inputPath = null)
    {
        log ??= Console.Error;
        var shards = Completed(ShardFolders(paths));
        var reference = Agreeing(shards);
        Covering(shards, reference.Shards);

        var options = reference.Options(outputFolder, dataRoot);
        options = options with { Input = inputPath ?? options.Input, Engine = options.Engine with { Threads = threads, Log = log } };
        string model = modelPath ?? ModelOf(reference, "model");
        string? compare = comparePath ?? (reference.Models.Any(m => m.Role == "compare") ? ModelOf(reference, "compare") : null);
        log.WriteLine($"Merging {shards.Count} shards of {reference.InputRecords} records into {outputFolder}.");
        using var plan = AuditPlan.Create(options, model, compare, log);
        // The merging machine may have another ONNX Runtime or provider: it only reads the graphs and tokenizes.
        var slices = ShardSlice.All(plan, reference.Shards);
        var here = ShardMarker.For(plan, slices[0]) with
        {
            OnnxRuntime = reference.OnnxRuntime, ExecutionProvider = reference.ExecutionProvider,
        };
        if (here.Identity() != reference.Identity())
            throw new FacadeException($"The models or data found here are not those the shards measured ({Difference(reference, here)}).");

        // Every chunk from the shard that measured it, then all records in input order.
        var chunks = plan.Subjects.ToDictionary(s => s.Role, _ => new SentenceRecord[plan.Chunks][]);
        foreach (var (folder, marker) in shards)
            foreach (var subject in plan.Subjects)
                foreach (var (chunk, chunkRecords) in ReadRecords(plan, slices[marker.Shard], subject, folder, marker))
                    chunks[subject.Role][chunk] = chunkRecords;
        var records = chunks.ToDictionary(kv => kv.Key, kv => kv.Value.Where(c => c != null).SelectMany(c => c).ToList());
        foreach (var (role, list) in records)
            for (int i = 0; i < plan.Inputs.Length; i++)
                if (i >= list.Count || list[i].Index != i)
                    throw new FacadeException($"Record {i} of {role} is {(i >= list.Count ? "missing" : $"out of place (found record {list[i].Index})")} after merging the shards.");

        var seconds = plan.Subjects.ToDictionary(s => s.Role, s => shards.Sum(x => x.Marker.Seconds?.GetValueOrDefault(s.Role) ?? 0));
        var report = AuditRunner.Conclude(plan, records.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()), seconds);
        AuditReporting.Write(report, outputFolder);
        return report;
    }

    /// <summary>The shard folders named, or found one level inside a folder named (shard-I-of-N, or holding a marker).</summary>
    static List<string> ShardFolders(IReadOnlyList<string> paths)
    {
        if (paths.Count == 0) throw new FacadeException("Name the shard folders to merge, or the folder that holds them.");
        var folders = new List<string>();
        foreach (var path in paths)
        {
            if (!Directory.Exists(path)) throw new FacadeException($"Shard folder {path} does not exist.");
            if (IsShardFolder(path)) { folders.Add(path); continue; }
            var inside = Directory.GetDirectories(path).Where(IsShardFolder).Order(StringComparer.Ordinal).ToArray();
            if (inside.Length == 0)
                throw new FacadeException($"{path} is neither a shard folder nor a folder of shards (shard-I-of-N folders with {ShardMarker.StartedFile}).");
            folders.AddRange(inside);
        }
        return folders;
    }

    static bool IsShardFolder(string path) =>
        File.Exists(Path.Combine(path, ShardMarker.StartedFile)) || File.Exists(Path.Combine(path, ShardMarker.CompleteFile))
        || System.Text.RegularExpressions.Regex.IsMatch(Path.GetFileName(Path.TrimEndingDirectorySeparator(path)), @"^shard-\d+-of-\d+$");

    /// <summary>Every folder's completion marker; refuses folders without one (half-written) or with a corrupt one.</summary>
    static List<(string Folder, ShardMarker Marker)> Completed(List<string> folders)
    {
        var problems = new List<string>();
        var shards = new List<(string, ShardMarker)>();
        foreach (var folder in folders)
        {
            try
            {
                if (ShardMarker.Read(Path.Combine(folder, ShardMarker.CompleteFile), $"shard folder {folder}") is { } done)
                {
                    if (done.Format != ShardMarker.CurrentFormat || done.RecordsSha256 == null)
                        throw new FacadeException($"shard folder {folder}: {ShardMarker.CompleteFile} is of format {done.Format} or has no records hash; this version writes format {ShardMarker.CurrentFormat}.");
                    shards.Add((folder, done));
                    continue;
                }
                var started = ShardMarker.Read(Path.Combine(folder, ShardMarker.StartedFile), $"shard folder {folder}");
                int chunks = Directory.GetFiles(folder, "chunk-*.json", SearchOption.AllDirectories).Length;
                problems.Add(started == null
                    ? $"shard folder {folder} holds no shard ({ShardMarker.StartedFile} and {ShardMarker.CompleteFile} are missing)."
                    : $"shard {started.Shard}/{started.Shards} in {folder} is not finished: no {ShardMarker.CompleteFile} " +
                      $"({chunks} of {started.Chunks.Length * started.Models.Count} chunk files written); run it again (--shard {started.Shard}/{started.Shards}).");
            }
            catch (FacadeException e)
            {
                problems.Add(e.Message);
            }
        }
        Refuse(problems);
        return shards;
    }

    /// <summary>The marker most shards agree with; refuses each shard that differs from it, saying how.</summary>
    static ShardMarker Agreeing(List<(string Folder, ShardMarker Marker)> shards)
    {
        var groups = shards.GroupBy(s => s.Marker.Identity()).OrderByDescending(g => g.Count()).ThenBy(g => g.Min(s => s.Marker.Shard)).ToArray();
        var reference = groups[0].First().Marker;
        Refuse(groups.Skip(1).SelectMany(g => g).Select(s =>
            $"shard {s.Marker.Shard}/{s.Marker.Shards} in {s.Folder} belongs to another audit: {Difference(reference, s.Marker)}."));
        return reference;
    }

    /// <summary>Refuses a missing or repeated shard index.</summary>
    static void Covering(List<(string Folder, ShardMarker Marker)> shards, int count)
    {
        var byIndex = shards.ToLookup(s => s.Marker.Shard);
        Refuse(Enumerable.Range(0, count).Select(i => byIndex[i].ToArray() switch
        {
            [] => $"shard {i}/{count} is missing (no finished {new ShardSpec(i, count).FolderName} among the folders given).",
            [_] => null,
            var twice => $"shard {i}/{count} is given more than once: {string.Join(" and ", twice.Select(s => s.Folder))}.",
        }).OfType<string>());
    }

    /// <summary>The records of one shard and model by chunk, each chunk file checked against the marker and the plan.</summary>
    static List<(int Chunk, SentenceRecord[] Records)> ReadRecords(AuditPlan plan, ShardSlice slice, AuditSubject subject, string folder, ShardMarker marker)
    {
        string name = $"shard {marker.Shard}/{marker.Shards} in {folder}";
        if (!slice.Chunks.SequenceEqual(marker.Chunks))
            throw new FacadeException($"{name} measured chunks {string.Join(",", marker.Chunks)}, but shard {marker.Shard} of {marker.Shards} of this input is chunks {string.Join(",", slice.Chunks)}.");
        var records = new List<(int, SentenceRecord[])>();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (file, chunk) in AuditShard.ChunkFiles(folder, plan, subject, slice).Zip(slice.Chunks))
        {
            if (!File.Exists(file)) throw new FacadeException($"{name}: the records file {file} is missing.");
            byte[] bytes = File.ReadAllBytes(file);
            hash.AppendData(bytes);
            SentenceRecord[] chunkRecords;
            try { chunkRecords = JsonSerializer.Deserialize<SentenceRecord[]>(bytes) ?? throw new JsonException("empty"); }
            catch (JsonException e) { throw new FacadeException($"{name}: the records file {file} is truncated or corrupt ({e.Message})."); }
            var (first, count) = plan.Chunk(chunk);
            if (!chunkRecords.Select(r => r.Index).SequenceEqual(Enumerable.Range(first, count)))
                throw new FacadeException($"{name}: the records file {file} holds records {string.Join(",", chunkRecords.Select(r => r.Index))}, expected {first}..{first + count - 1}.");
            records.Add((chunk, chunkRecords));
        }
        string actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (marker.RecordsSha256!.GetValueOrDefault(subject.Role) != actual)
            throw new FacadeException($"{name}: the {subject.Role} records (sha256 {actual[..12]}) are not those its {ShardMarker.CompleteFile} names; a chunk file changed after the shard finished.");
        return records;
    }

    static string ModelOf(ShardMarker marker, string role)
    {
        var model = marker.Models.Single(m => m.Role == role);
        if (!File.Exists(model.Path))
            throw new FacadeException($"The {role} model the shards measured, {model.Path}, is not there; give its path with --{role}.");
        return model.Path;
    }

    /// <summary>How <paramref name="actual"/> differs from <paramref name="expected"/>, in words.</summary>
    internal static string Difference(ShardMarker expected, ShardMarker actual)
    {
        var parts = new List<string>();
        if (actual.Format != expected.Format) parts.Add($"marker format {actual.Format} instead of {expected.Format}");
        if (actual.Shards != expected.Shards) parts.Add($"{actual.Shards} shards instead of {expected.Shards}");
        foreach (var model in expected.Models)
            if (actual.Models.FirstOrDefault(m => m.Role == model.Role) is not { } other) parts.Add($"no {model.Role} model");
            else if (other.Sha256 != model.Sha256) parts.Add($"another {model.Role} model: {other.Path} (sha256 {other.Sha256[..12]}) instead of {model.Path} (sha256 {model.Sha256[..12]})");
        foreach (var model in actual.Models.Where(m => expected.Models.All(e => e.Role != m.Role)))
            parts.Add($"a {model.Role} model ({model.Path}) the others do not have");
        var settings = new List<string>();
        SettingDifferences(expected.SharedSettings(), actual.SharedSettings(), "", settings);
        if (settings.Count > 0) parts.Add("other settings: " + string.Join(", ", settings));
        if (actual.InputHash != expected.InputHash)
            parts.Add($"another input (hash {actual.InputHash[..12]} of {actual.InputRecords} records instead of {expected.InputHash[..12]} of {expected.InputRecords})");
        if (actual.OnnxRuntime != expected.OnnxRuntime) parts.Add($"ONNX Runtime {actual.OnnxRuntime} instead of {expected.OnnxRuntime}");
        if (actual.ExecutionProvider != expected.ExecutionProvider) parts.Add($"{actual.ExecutionProvider} instead of {expected.ExecutionProvider}");
        if (parts.Count == 0 && actual.Fingerprint != expected.Fingerprint) parts.Add($"settings fingerprint {actual.Fingerprint} instead of {expected.Fingerprint}");
        return parts.Count == 0 ? "no difference found" : string.Join("; ", parts);
    }

    static void SettingDifferences(JsonNode? expected, JsonNode? actual, string path, List<string> differences)
    {
        if (expected is JsonObject eo && actual is JsonObject ao)
        {
            foreach (var key in eo.Select(kv => kv.Key).Union(ao.Select(kv => kv.Key)))
                SettingDifferences(eo[key], ao[key], path.Length == 0 ? key : $"{path}.{key}", differences);
        }
        else if (expected?.ToJsonString() != actual?.ToJsonString())
            differences.Add($"{path} {actual?.ToJsonString() ?? "null"} instead of {expected?.ToJsonString() ?? "null"}");
    }

    static void Refuse(IEnumerable<string> problems)
    {
        var all = problems.ToArray();
        if (all.Length > 0) throw new FacadeException("Cannot merge the shards:\n  " + string.Join("\n  ", all));
    }
}
