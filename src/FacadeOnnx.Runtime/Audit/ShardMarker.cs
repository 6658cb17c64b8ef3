using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace FacadeOnnx.Runtime.Audit;

/// <summary>One audited model as a shard saw it: its path then, and the SHA-256 that identifies it.</summary>
public sealed record ShardModel(string Role, string Path, string Sha256);

/// <summary>
/// What a shard folder measures, written as <see cref="StartedFile"/> before the first chunk (so a later run with other
/// settings cannot mix its records in) and again, with the records' count and hash, as the completion marker
/// <see cref="CompleteFile"/> after the last: the shard, the input (<see cref="InputHash"/>, records by index), the
/// settings (fingerprint and the options themselves, which the merge rebuilds the plan from), the models, and the
/// ONNX Runtime version and execution provider the records were measured with.
/// </summary>
public sealed record ShardMarker
{
    public const string StartedFile = "shard.json", CompleteFile = "complete.json";
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;
    public required int Shard { get; init; }
    public required int Shards { get; init; }
    /// <summary>The settings fingerprint of the plan (<see cref="AuditPlan.Fingerprint"/>).</summary>
    public required string Fingerprint { get; init; }
    /// <summary>Identifies the audited input; records are identified by their index in it.</summary>
    public required string InputHash { get; init; }
    public required int InputRecords { get; init; }
    /// <summary>The chunks this shard measures (<see cref="ShardSlice"/>), in increasing order; chunk c holds records
    /// c·chunk size onwards.</summary>
    public required int[] Chunks { get; init; }
    public required int RecordCount { get; init; }
    public required long Pieces { get; init; }
    public required List<ShardModel> Models { get; init; }
    public required string OnnxRuntime { get; init; }
    public required string ExecutionProvider { get; init; }
    /// <summary>Where the shard read the data (the merge's default; the data files' hashes are in <see cref="InputHash"/>).</summary>
    public required string DataRoot { get; init; }
    /// <summary>The audit's options, files as full paths. Shards compare them without <see cref="MachineLocal"/>.</summary>
    public required JsonNode Settings { get; init; }
    /// <summary>Completion marker only: per model role, SHA-256 of its chunk files' bytes in chunk order.</summary>
    public Dictionary<string, string>? RecordsSha256 { get; init; }
    /// <summary>Completion marker only: measuring time per model role, in seconds.</summary>
    public Dictionary<string, double>? Seconds { get; init; }
    public string? Host { get; init; }
    public string? FinishedAt { get; init; }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
        // Options carry a log writer (EngineOptions.Log); it is no setting.
        TypeInfoResolver = new DefaultJsonTypeInfoResolver
        {
            Modifiers = { info =>
            {
                foreach (var property in info.Properties.Where(p => typeof(TextWriter).IsAssignableFrom(p.PropertyType)).ToArray())
                    info.Properties.Remove(property);
            } },
        },
    };

    /// <summary>Settings that may differ between the machines of one audit: where the output, the data and an input
    /// file are (the files' content is in <see cref="InputHash"/>), and the thread count.</summary>
    public static readonly string[] MachineLocal = ["output_folder", "data_root", "input", "engine.threads"];

    /// <summary>The options as a shard marker records them, the data folder and an input file as full paths.</summary>
    public static JsonNode Describe(AuditOptions options)
    {
        var settings = JsonSerializer.SerializeToNode(options, Json)!.AsObject();
        foreach (var key in new[] { "data_root", "input" })
            if (settings[key]?.GetValue<string>() is string path) settings[key] = Path.GetFullPath(path);
        return settings;
    }

    /// <summary>The settings shards must share: <see cref="Settings"/> without <see cref="MachineLocal"/>.</summary>
    public JsonNode SharedSettings()
    {
        var shared = Settings.DeepClone();
        foreach (var path in MachineLocal)
        {
            var parts = path.Split('.');
            var parent = parts[..^1].Aggregate((JsonNode?)shared, (node, key) => node?[key]);
            (parent as JsonObject)?.Remove(parts[^1]);
        }
        return shared;
    }

    /// <summary>The options back, writing into <paramref name="outputFolder"/> and reading the data from
    /// <paramref name="dataRoot"/> (default: where the shard read it, when that folder is here).</summary>
    public AuditOptions Options(string outputFolder, string? dataRoot) =>
        (Settings.Deserialize<AuditOptions>(Json) ?? throw new FacadeException("The shard marker holds no settings.")) with
        {
            OutputFolder = outputFolder,
            DataRoot = dataRoot ?? (Directory.Exists(DataRoot) ? DataRoot : null),
        };

    /// <summary>The marker of <paramref name="slice"/> of <paramref name="plan"/> (without records yet).</summary>
    public static ShardMarker For(AuditPlan plan, ShardSlice slice) => new()
    {
        Shard = slice.Shard.Index,
        Shards = slice.Shard.Count,
        Fingerprint = plan.Fingerprint,
        InputHash = InputHashOf(plan),
        InputRecords = plan.Inputs.Length,
        Chunks = slice.Chunks,
        RecordCount = slice.RecordCount,
        Pieces = slice.Pieces,
        Models = plan.Subjects.Select(s => new ShardModel(s.Role, Path.GetFullPath(s.Engine.Model.Path), s.Engine.Model.Sha256)).ToList(),
        OnnxRuntime = Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString(),
        ExecutionProvider = plan.Model.Engine.Device == Engine.ExecutionDevice.Cuda ? "CUDAExecutionProvider" : "CPUExecutionProvider",
        DataRoot = Path.GetFullPath(plan.DataRoot),
        Settings = Describe(plan.Options),
    };

    /// <summary>
    /// The input's identity: the SHA-256 of the split's data files or of the user's input file, the limit, and the
    /// records themselves as the engine sees them (every record's index in its file, word-piece and segment ids, in
    /// order). Records are named by their position in this input (<see cref="SentenceRecord.Index"/>).
    /// </summary>
    public static string InputHashOf(AuditPlan plan)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            limit = plan.Options.Limit, records = plan.Inputs.Length, input = plan.Input?.Sha256,
            files = plan.DataFiles.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value).ToArray(),
        })));
        foreach (var (input, record) in plan.Inputs.Zip(plan.RecordIndices))
        {
            hash.AppendData(BitConverter.GetBytes(record));
            hash.AppendData(BitConverter.GetBytes(input.Length));
            hash.AppendData(MemoryMarshal.AsBytes(input.Ids.AsSpan()));
            hash.AppendData(MemoryMarshal.AsBytes(input.TypeIds.AsSpan()));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Everything two shards of one audit must share (index, range and records aside).</summary>
    public string Identity() => JsonSerializer.Serialize(new
    {
        Format, Shards, Fingerprint, InputHash, InputRecords, OnnxRuntime, ExecutionProvider,
        models = Models.Select(m => m.Role + ":" + m.Sha256).ToArray(), settings = SharedSettings().ToJsonString(),
    });

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The marker in <paramref name="path"/>, null when there is none; a <see cref="FacadeException"/> naming
    /// <paramref name="what"/> when it cannot be read.</summary>
    public static ShardMarker? Read(string path, string what)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<ShardMarker>(File.ReadAllText(path), Json)
                   ?? throw new JsonException("empty");
        }
        catch (JsonException e)
        {
            throw new FacadeException($"{what}: {Path.GetFileName(path)} is corrupt ({e.Message}).");
        }
    }
}
