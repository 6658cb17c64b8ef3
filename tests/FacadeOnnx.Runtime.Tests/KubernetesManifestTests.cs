using System.Text.RegularExpressions;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// deploy/kubernetes cannot run here (no cluster): these checks read its manifests and hold them to the CLI. The
/// shard Job is an Indexed Job whose --shard-count equals its completions, every option it and the merge pass exists
/// in `facade audit --help` / `facade audit merge --help`, the merge reads the folder the shards write, all of it on
/// the one shared volume, and the image runs the facade binary.
/// </summary>
[TestFixture]
public class KubernetesManifestTests
{
    static string Manifest(string name) => File.ReadAllText(Path.Combine(FacadeCli.RepositoryRoot, "deploy", "kubernetes", name));

    static string Scalar(string yaml, string key)
    {
        var match = Regex.Match(yaml, $@"^\s*{key}:\s*""?([^""\s#]+)""?\s*$", RegexOptions.Multiline);
        Assert.That(match.Success, $"{key} is set");
        return match.Groups[1].Value;
    }

    /// <summary>The container's args (a block list of scalars under `args:`).</summary>
    static string[] Args(string yaml)
    {
        var lines = yaml.Split('\n');
        int at = Array.FindIndex(lines, l => Regex.IsMatch(l, @"^\s*args:\s*$"));
        Assert.That(at, Is.GreaterThanOrEqualTo(0), "the container has args");
        int indent = lines[at].Length - lines[at].TrimStart().Length;
        return lines.Skip(at + 1).TakeWhile(l => Regex.IsMatch(l, @"^\s*- ") && l.Length - l.TrimStart().Length >= indent)
            .Select(l => l.Trim()[2..].Trim().Trim('"')).ToArray();
    }

    static string ValueOf(string[] args, string option) => args[Array.IndexOf(args, option) + 1];

    static void AssertOptionsExist(string[] args, params string[] command)
    {
        var help = FacadeCli.Run([.. command, "--help"]);
        Assert.That(help.ExitCode, Is.Zero, help.ToString());
        foreach (var option in args.Where(a => a.StartsWith("--")))
            Assert.That(help.Output, Does.Contain(option + " "), $"`facade {string.Join(" ", command)}` has {option}");
    }

    [Test]
    public void ShardJobIsAnIndexedJobWhoseShardCountIsItsCompletions()
    {
        string job = Manifest("audit-job.yaml");
        Assert.That(Scalar(job, "completionMode"), Is.EqualTo("Indexed"));
        int completions = int.Parse(Scalar(job, "completions"));
        Assert.That(int.Parse(Scalar(job, "parallelism")), Is.InRange(1, completions));
        Assert.That(int.Parse(Scalar(job, "backoffLimitPerIndex")), Is.GreaterThanOrEqualTo(1), "a failed shard is retried for its own index");
        var args = Args(job);
        Assert.That(args[0], Is.EqualTo("audit"));
        Assert.That(int.Parse(ValueOf(args, "--shard-count")), Is.EqualTo(completions), "one shard per completion index");
        Assert.That(args, Does.Not.Contain("--shard"), "the index comes from JOB_COMPLETION_INDEX");
        AssertOptionsExist(args, "audit");
    }

    [Test]
    public void MergeJobReadsTheShardsFolderOnTheSameVolume()
    {
        string job = Manifest("audit-job.yaml"), merge = Manifest("merge-job.yaml"), pvc = Manifest("pvc.yaml");
        var shardArgs = Args(job);
        var mergeArgs = Args(merge);
        Assert.That(mergeArgs[..2], Is.EqualTo(new[] { "audit", "merge" }));
        AssertOptionsExist(mergeArgs, "audit", "merge");
        Assert.That(mergeArgs[^1], Is.EqualTo(ValueOf(shardArgs, "--out")), "the merge reads the shards' --out");
        Assert.That(ValueOf(mergeArgs, "--data"), Is.EqualTo(ValueOf(shardArgs, "--data")));

        string claim = Regex.Match(pvc, @"^\s*name:\s*(\S+)", RegexOptions.Multiline).Groups[1].Value;
        Assert.That(pvc, Does.Contain("- ReadWriteMany"), "every shard pod mounts the volume");
        foreach (var yaml in new[] { job, merge })
        {
            Assert.That(Scalar(yaml, "claimName"), Is.EqualTo(claim));
            string mount = Scalar(yaml, "mountPath");
            foreach (var path in Args(yaml).Where(a => a.StartsWith('/')))
                Assert.That(path, Does.StartWith(mount + "/"), $"{path} is on the shared volume");
        }
    }

    [Test]
    public void ImageRunsTheFacadeBinary()
    {
        string dockerfile = Manifest("Dockerfile");
        Assert.That(dockerfile, Does.Contain("dotnet publish tools/FacadeOnnx.Cli/FacadeOnnx.Cli.csproj"));
        Assert.That(dockerfile, Does.Match(@"ENTRYPOINT \[""/opt/facade/facade""\]"));
        Assert.That(Scalar(Manifest("audit-job.yaml"), "image"), Is.EqualTo(Scalar(Manifest("merge-job.yaml"), "image")));
    }
}
