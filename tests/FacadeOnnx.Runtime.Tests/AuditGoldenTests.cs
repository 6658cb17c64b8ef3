using System.Text.Json;
using System.Text.Json.Nodes;
using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Runtime.Engine;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// Pins what an audit measures: the report of a small audit (tiny merged model against its tiny target, 12 real SST-2
/// dev sentences, attacks on) is compared field by field with a golden report written before the audit code was
/// reshaped into stages. Only what legitimately changes between runs is left out: timings, creation time, version,
/// file paths and hashes of files written to a temporary folder.
/// </summary>
[TestFixture]
public class AuditGoldenTests
{
    static readonly string[] Volatile = ["created_at", "version", "seconds", "path", "sha256"];

    static string GoldenPath => Path.Combine(AppContext.BaseDirectory, "Golden", "audit-tiny.json");

    [Test]
    public void AuditMetricsEqualTheGoldenReport()
    {
        string folder = Path.Combine(AuditModels.Folder, "audit-golden");
        var options = new AuditOptions
        {
            Task = "sst2", Limit = 12, ChunkSize = 5, OutputFolder = folder, HeatmapSamples = 2,
            Engine = new EngineOptions { Log = TextWriter.Null, Threads = 2 },
        };
        AuditRunner.Run(options, AuditModels.PathOf("merged-noisy"), AuditModels.PathOf("target-a"), TextWriter.Null);
        var actual = Strip(JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "report.json")))!);

        if (Environment.GetEnvironmentVariable("FACADE_WRITE_GOLDEN") is string target && target.Length > 0)
        {
            File.WriteAllText(target, actual.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Assert.Inconclusive($"golden report written to {target}; commit it");
        }
        var golden = JsonNode.Parse(File.ReadAllText(GoldenPath))!;
        var differences = new List<string>();
        Compare(golden, actual, "$", differences);
        Assert.That(differences, Is.Empty, string.Join("\n", differences.Take(20)));
    }

    internal static JsonNode Strip(JsonNode node)
    {
        if (node is JsonObject o)
            foreach (var key in o.Select(kv => kv.Key).ToArray())
            {
                if (Volatile.Contains(key)) o.Remove(key);
                else if (o[key] is JsonNode child) Strip(child);
            }
        else if (node is JsonArray a)
            foreach (var child in a) if (child != null) Strip(child);
        return node;
    }

    /// <summary>
    /// Numbers must agree to 1e-9 relative: the tiny models run in float32 through the same ONNX Runtime kernels and
    /// thread count, so a refactor that keeps the arithmetic gives the same bits; the tolerance only forgives the last
    /// digit of a double printed and parsed back. Any real change of a rate moves it by at least 1/12.
    /// </summary>
    internal static void Compare(JsonNode? expected, JsonNode? actual, string path, List<string> differences)
    {
        switch (expected)
        {
            case null:
                if (actual != null) differences.Add($"{path}: expected null, got {actual.ToJsonString()}");
                return;
            case JsonObject eo:
                if (actual is not JsonObject ao) { differences.Add($"{path}: expected an object"); return; }
                foreach (var (key, value) in eo) Compare(value, ao[key], $"{path}.{key}", differences);
                foreach (var (key, _) in ao.Where(kv => !eo.ContainsKey(kv.Key))) differences.Add($"{path}.{key}: not in the golden report");
                return;
            case JsonArray ea:
                if (actual is not JsonArray aa || aa.Count != ea.Count) { differences.Add($"{path}: expected an array of {ea.Count}"); return; }
                for (int i = 0; i < ea.Count; i++) Compare(ea[i], aa[i], $"{path}[{i}]", differences);
                return;
            default:
                var ev = expected.AsValue();
                if (ev.TryGetValue(out double e))
                {
                    double a = actual is JsonValue av && av.TryGetValue(out double parsed) ? parsed : double.NaN;
                    bool same = e.Equals(a) || Math.Abs(e - a) <= 1e-9 * Math.Max(1, Math.Abs(e));
                    if (!same) differences.Add($"{path}: expected {e:R}, got {(actual?.ToJsonString() ?? "nothing")}");
                }
                else if (actual?.ToJsonString() != expected.ToJsonString())
                    differences.Add($"{path}: expected {expected.ToJsonString()}, got {actual?.ToJsonString() ?? "nothing"}");
                return;
        }
    }
}
