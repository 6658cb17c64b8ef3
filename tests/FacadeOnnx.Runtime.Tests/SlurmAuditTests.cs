using System.Diagnostics;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// A sharded audit on a real Slurm: deploy/slurm/cluster.sh brings up a one-node cluster on localhost (Debian's
/// slurm-wlm and munge, installed when missing), deploy/slurm/audit-array.sbatch submits a 4-task array of shards and
/// the merge as a job depending on it, and the merged report equals a one-process audit's. Needs root and apt-get (or
/// Slurm already installed); otherwise it is skipped with the reason.
/// </summary>
[TestFixture, Category("Slurm"), NonParallelizable]
public class SlurmAuditTests
{
    static string Script(string name) => Path.Combine(FacadeCli.RepositoryRoot, "deploy", "slurm", name);

    [Test]
    public void FourTaskArrayAndDependentMergeEqualAOneProcessAudit()
    {
        if (!Environment.IsPrivilegedProcess) Assert.Ignore("Slurm test skipped: a local cluster needs root (deploy/slurm/cluster.sh).");
        if (!File.Exists("/usr/bin/apt-get") && !File.Exists("/usr/sbin/slurmctld")) Assert.Ignore("Slurm test skipped: no apt-get to install slurm-wlm and munge.");
        string cluster = Path.Combine(Path.GetTempPath(), "facade-slurm-" + Guid.NewGuid().ToString("N")[..8]);
        var up = FacadeCli.Program(Script("cluster.sh"), new Dictionary<string, string>(), "up", cluster);
        if (up.ExitCode == 77) Assert.Ignore("Slurm test skipped: " + up.Error.Trim().Split('\n')[^1]);
        Assert.That(up.ExitCode, Is.Zero, up.ToString());
        try
        {
            var environment = new Dictionary<string, string> { ["SLURM_CONF"] = Path.Combine(cluster, "slurm.conf"), ["FACADE"] = FacadeCli.Command };
            string output = Path.Combine(AuditModels.Folder, "slurm-audit");
            var submit = FacadeCli.Program(Script("audit-array.sbatch"), environment, ["4", output, .. ShardedAuditTests.Settings]);
            Assert.That(submit.ExitCode, Is.Zero, submit.ToString());
            var ids = submit.Output.Trim().Split(' ');
            Assert.That(ids, Has.Length.EqualTo(2), submit.ToString());

            string state = "", clock = "";
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < TimeSpan.FromMinutes(10))
            {
                var show = FacadeCli.Program("scontrol", environment, "show", "job", ids[1]);
                state = System.Text.RegularExpressions.Regex.Match(show.Output, @"JobState=(\w+)").Groups[1].Value;
                if (state is "COMPLETED" or "FAILED" or "CANCELLED" or "TIMEOUT" or "NODE_FAIL" or "OUT_OF_MEMORY") break;
                Thread.Sleep(1000);
            }
            clock = $"{watch.Elapsed.TotalSeconds:F0} s";
            string logs = string.Join("\n", Directory.Exists(Path.Combine(output, "slurm"))
                ? Directory.GetFiles(Path.Combine(output, "slurm")).Order().Select(f => $"--- {Path.GetFileName(f)}\n{File.ReadAllText(f)}") : []);
            Assert.That(state, Is.EqualTo("COMPLETED"), $"merge job {ids[1]} after {clock}\n{logs}");
            TestContext.Out.WriteLine($"array {ids[0]} and merge {ids[1]} completed in {clock}");
            Assert.That(Directory.GetDirectories(output, "shard-*-of-4"), Has.Length.EqualTo(4));
            ShardedAuditTests.AssertReportEqualsOneProcess(output);
        }
        finally
        {
            var down = FacadeCli.Program(Script("cluster.sh"), new Dictionary<string, string>(), "down", cluster);
            Assert.That(down.ExitCode, Is.Zero, down.ToString());
        }
    }
}
