using System.Diagnostics;
using System.Text.Json.Nodes;
using FacadeOnnx.Runtime.Audit;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// An audit spread over four `facade` processes (`--shard I/4`) and merged (`facade audit merge`) gives the report of a
/// one-process audit, field by field, also after a shard is killed mid-chunk and started again and when two processes
/// run the same shard at once; the merge refuses missing, foreign, corrupt and half-written shards, naming them.
/// Tiny merged model against its tiny target, 24 real SST-2 dev sentences in 8 chunks, attacks on, one thread per
/// process (the same kernels and blocking as the one-process audit, so the merged numbers are the same bits).
/// </summary>
[TestFixture, NonParallelizable]
public class ShardedAuditTests
{
    const int Shards = 4;
    static string Root => Path.Combine(AuditModels.Folder, "sharded");

    /// <summary>The audit's options (without --out), shared with <see cref="SlurmAuditTests"/>.</summary>
    internal static string[] Settings =>
    [
        "--model", AuditModels.PathOf("merged-noisy"), "--compare", AuditModels.PathOf("target-a"), "--task", "sst2",
        "--data", RepositoryPaths.ResolveDataRoot(), "--limit", "24", "--chunk-size", "3", "--threads", "1",
    ];

    static string[] AuditArgs(string output, params string[] extra) => ["audit", .. Settings, "--out", output, .. extra];

    static string[] ShardArgs(string output, int shard, params string[] extra) => AuditArgs(output, ["--shard", $"{shard}/{Shards}", .. extra]);

    /// <summary>report.json of the same audit in one process.</summary>
    internal static readonly Lazy<string> OneProcess = new(() =>
    {
        string folder = Path.Combine(Root, "one-process");
        var run = FacadeCli.Run(AuditArgs(folder));
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        return Path.Combine(folder, AuditReporting.Json);
    });

    /// <summary>A folder with the four shards of the audit, run as four processes at once.</summary>
    static readonly Lazy<string> FourShards = new(() =>
    {
        string folder = Path.Combine(Root, "shards");
        var processes = Enumerable.Range(0, Shards).Select(i => FacadeCli.Start(ShardArgs(folder, i))).ToArray();
        foreach (var run in processes.Select(p => FacadeCli.Finish(p)))
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
        return folder;
    });

    static string ShardFolder(string parent, int shard) => Path.Combine(parent, new ShardSpec(shard, Shards).FolderName);

    /// <summary>A new folder holding copies of the four good shards except those listed.</summary>
    static string CopyOfShards(string name, params int[] except)
    {
        string folder = Path.Combine(Root, name);
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        foreach (int i in Enumerable.Range(0, Shards).Except(except))
            CopyFolder(ShardFolder(FourShards.Value, i), ShardFolder(folder, i));
        return folder;
    }

    static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>Merges the shards in <paramref name="folder"/> and compares the report with the one-process audit's.</summary>
    static void AssertMergeEqualsOneProcess(string folder)
    {
        string output = Path.Combine(folder, "merged");
        var merge = FacadeCli.Run("audit", "merge", "--out", output, "--threads", "1", folder);
        Assert.That(merge.ExitCode, Is.Zero, merge.ToString());
        AssertReportEqualsOneProcess(output);
    }

    /// <summary>The three reports are in <paramref name="output"/> and report.json equals the one-process audit's
    /// field by field (timings, paths, creation time aside: <see cref="AuditGoldenTests"/>).</summary>
    internal static void AssertReportEqualsOneProcess(string output) => AssertReportsEqual(OneProcess.Value, output, 24);

    static void AssertReportsEqual(string expectedJson, string output, int sentences)
    {
        foreach (var file in new[] { AuditReporting.Json, AuditReporting.Markdown, AuditReporting.Html })
            Assert.That(File.Exists(Path.Combine(output, file)), file);
        var expected = AuditGoldenTests.Strip(JsonNode.Parse(File.ReadAllText(expectedJson))!);
        var actual = AuditGoldenTests.Strip(JsonNode.Parse(File.ReadAllText(Path.Combine(output, AuditReporting.Json)))!);
        var differences = new List<string>();
        AuditGoldenTests.Compare(expected, actual, "$", differences);
        Assert.That(differences, Is.Empty, string.Join("\n", differences.Take(20)));
        Assert.That(actual["model"]!["sentences"]!.GetValue<int>(), Is.EqualTo(sentences));
    }

    static FacadeCli.Result MergeRefusal(string folder)
    {
        var merge = FacadeCli.Run("audit", "merge", "--out", Path.Combine(folder, "merged"), folder);
        Assert.That(merge.ExitCode, Is.EqualTo(2), merge.ToString());
        Assert.That(File.Exists(Path.Combine(folder, "merged", AuditReporting.Json)), Is.False, "no report from a refused merge");
        return merge;
    }

    [Test]
    public void FourShardMergeEqualsOneProcessAudit()
    {
        var markers = Enumerable.Range(0, Shards)
            .Select(i => ShardMarker.Read(Path.Combine(ShardFolder(FourShards.Value, i), ShardMarker.CompleteFile), "test")!).ToArray();
        Assert.That(markers.Sum(m => m.RecordCount), Is.EqualTo(24));
        Assert.That(markers.SelectMany(m => m.Chunks).Order(), Is.EqualTo(Enumerable.Range(0, 8)), "every chunk in exactly one shard");
        Assert.That(markers.Select(m => m.Identity()).Distinct().Count(), Is.EqualTo(1), "every marker names the same audit");
        Assert.That(markers[0].OnnxRuntime, Is.Not.Empty);
        AssertMergeEqualsOneProcess(FourShards.Value);
    }

    /// <summary>
    /// A user's input file (`facade audit --input`, texts of very different lengths joined from real SST-2 dev
    /// sentences, some cut at the model's length) sharded three ways and merged equals its one-process audit.
    /// </summary>
    [Test]
    public void ShardedInputFileAuditEqualsOneProcessAudit()
    {
        string folder = Path.Combine(Root, "input-file");
        Directory.CreateDirectory(folder);
        var sentences = Training.Tests.RealData.Sst2Dev.Examples.Select(e => e.Text).ToArray();
        string input = Path.Combine(folder, "texts.txt");
        File.WriteAllLines(input, Enumerable.Range(0, 17).Select(i => string.Join(" ", sentences.Skip(i * 7).Take(1 + i % 6 * 3))));
        string[] Args(string output, params string[] extra) =>
        [
            "audit", "--model", AuditModels.PathOf("merged-noisy"), "--input", input, "--data", RepositoryPaths.ResolveDataRoot(),
            "--chunk-size", "3", "--threads", "1", "--out", output, .. extra,
        ];
        var one = FacadeCli.Run(Args(Path.Combine(folder, "one-process")));
        Assert.That(one.ExitCode, Is.Zero, one.ToString());
        string shards = Path.Combine(folder, "shards");
        foreach (var run in Enumerable.Range(0, 3).Select(i => FacadeCli.Start(Args(shards, "--shard", $"{i}/3"))).ToArray().Select(p => FacadeCli.Finish(p)))
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
        // The file moved after the shards read it: the merge is told where (its records are checked by the input hash).
        string moved = Path.Combine(folder, "moved", Path.GetFileName(input));
        Directory.CreateDirectory(Path.GetDirectoryName(moved)!);
        File.Move(input, moved, overwrite: true);
        var merge = FacadeCli.Run("audit", "merge", "--out", shards, "--threads", "1", "--input", moved, shards);
        Assert.That(merge.ExitCode, Is.Zero, merge.ToString());
        AssertReportsEqual(Path.Combine(folder, "one-process", AuditReporting.Json), shards, 17);
    }

    [Test]
    public void ShardKilledMidChunkAndStartedAgainMergesExactly()
    {
        string folder = CopyOfShards("killed", except: 1);
        string shard = ShardFolder(folder, 1);
        using (var process = FacadeCli.Start(ShardArgs(folder, 1)))
        {
            var clock = Stopwatch.StartNew();
            while (!process.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2)
                   && !(Directory.Exists(shard) && Directory.GetFiles(shard, "chunk-*.json", SearchOption.AllDirectories).Length > 0))
                Thread.Sleep(5);
            process.Kill(); // SIGKILL on Linux: no handler runs
            process.WaitForExit();
        }
        Assert.That(File.Exists(Path.Combine(shard, ShardMarker.CompleteFile)), Is.False, "killed before it finished");
        int written = Directory.GetFiles(shard, "chunk-*.json", SearchOption.AllDirectories).Length;
        Assert.That(written, Is.GreaterThanOrEqualTo(1), "killed after its first chunk");

        var again = FacadeCli.Run(ShardArgs(folder, 1));
        Assert.That(again.ExitCode, Is.Zero, again.ToString());
        Assert.That(again.Error, Does.Contain("Resuming the audit"));
        AssertMergeEqualsOneProcess(folder);
        var rerun = FacadeCli.Run(ShardArgs(folder, 1));
        Assert.That(rerun.Output, Does.Contain("already complete"), "a finished shard started again does nothing");
    }

    [Test]
    public void TwoProcessesOnTheSameShardAtOnceMergeExactly()
    {
        string folder = CopyOfShards("twice", except: 2);
        var both = new[] { FacadeCli.Start(ShardArgs(folder, 2)), FacadeCli.Start(ShardArgs(folder, 2)) };
        foreach (var run in both.Select(p => FacadeCli.Finish(p)))
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(Directory.GetFiles(ShardFolder(folder, 2), "*.tmp", SearchOption.AllDirectories), Is.Empty, "no temporary file left");
        AssertMergeEqualsOneProcess(folder);
    }

    [Test]
    public void MergeRefusesAMissingShard()
    {
        var refusal = MergeRefusal(CopyOfShards("missing", except: 3));
        Assert.That(refusal.Error, Does.Contain("shard 3/4 is missing"));
    }

    [Test]
    public void MergeRefusesAShardOfAnotherModel()
    {
        string folder = CopyOfShards("other-model", except: 2);
        var otherCompare = ShardArgs(folder, 2).Select(a => a == AuditModels.PathOf("target-a") ? AuditModels.PathOf("target-b") : a).ToArray();
        var run = FacadeCli.Run(otherCompare);
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        var refusal = MergeRefusal(folder);
        Assert.That(refusal.Error, Does.Contain("shard 2/4 in " + ShardFolder(folder, 2)).And.Contain("another compare model"));
    }

    [Test]
    public void MergeRefusesAShardWithOtherSettings()
    {
        string folder = CopyOfShards("other-settings", except: 0);
        var run = FacadeCli.Run(ShardArgs(folder, 0, "--smooth-samples", "3"));
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        var refusal = MergeRefusal(folder);
        Assert.That(refusal.Error, Does.Contain("shard 0/4 in " + ShardFolder(folder, 0)).And.Contain("smooth.samples 3 instead of 10"));

        // The shard's folder is now that audit's: the first settings cannot write into it again.
        var back = FacadeCli.Run(ShardArgs(folder, 0));
        Assert.That(back.ExitCode, Is.EqualTo(2), back.ToString());
        Assert.That(back.Error, Does.Contain("holds shard 0/4 of another audit"));
    }

    [Test]
    public void MergeRefusesATruncatedRecordsFile()
    {
        string folder = CopyOfShards("truncated");
        string chunk = Directory.GetFiles(ShardFolder(folder, 1), "chunk-*.json", SearchOption.AllDirectories).Order().First();
        byte[] bytes = File.ReadAllBytes(chunk);
        File.WriteAllBytes(chunk, bytes[..(bytes.Length / 2)]);
        var refusal = MergeRefusal(folder);
        Assert.That(refusal.Error, Does.Contain("shard 1/4 in " + ShardFolder(folder, 1)).And.Contain(Path.GetFileName(chunk)).And.Contain("truncated or corrupt"));
    }

    [Test]
    public void MergeRefusesAHalfWrittenShard()
    {
        string folder = CopyOfShards("half-written");
        File.Delete(Path.Combine(ShardFolder(folder, 0), ShardMarker.CompleteFile));
        var refusal = MergeRefusal(folder);
        Assert.That(refusal.Error, Does.Contain("shard 0/4 in " + ShardFolder(folder, 0) + " is not finished"));
    }
}
