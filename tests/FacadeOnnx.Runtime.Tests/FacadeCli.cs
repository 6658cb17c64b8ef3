using System.Diagnostics;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// The built `facade` command (tools/FacadeOnnx.Cli, same configuration as these tests; the test project references it
/// so the build makes it first), run as separate processes through `dotnet facade.dll`.
/// </summary>
public static class FacadeCli
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\n{Output}\n{Error}";
    }

    /// <summary>The repository root (the folder of FacadeOnnx.sln above the test binaries).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>tools/FacadeOnnx.Cli/bin/CONFIG/net10.0/linux-x64/facade.dll, CONFIG as in this test's own output path.</summary>
    public static string Dll { get; } = Path.Combine(RepositoryRoot, "tools", "FacadeOnnx.Cli", "bin",
        Path.GetRelativePath(Path.Combine(RepositoryRoot, "tests", "FacadeOnnx.Runtime.Tests", "bin"), AppContext.BaseDirectory), "facade.dll");

    /// <summary>How a job script runs the CLI (its FACADE variable).</summary>
    public static string Command => $"dotnet {Dll}";

    public static Process Start(params string[] args)
    {
        if (!File.Exists(Dll)) throw new AssertionException($"the facade CLI is not built at {Dll}");
        return Launch("dotnet", [Dll, .. args], new Dictionary<string, string>());
    }

    /// <summary>Runs <paramref name="file"/> (a script or program) with extra environment variables, to the end.</summary>
    public static Result Program(string file, IReadOnlyDictionary<string, string> environment, params string[] args) =>
        Finish(Launch(file, args, environment));

    static Process Launch(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        // Plain progress lines; no shard taken from a job array the tests themselves might run in.
        start.Environment["FACADE_PLAIN_PROGRESS"] = "1";
        foreach (var name in new[] { Audit.ShardSpec.SlurmTaskId, Audit.ShardSpec.SlurmTaskCount, Audit.ShardSpec.KubernetesIndex })
            start.Environment.Remove(name);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        return Process.Start(start)!;
    }

    /// <summary>Waits for <paramref name="process"/> (at most <paramref name="seconds"/>) and collects what it printed.</summary>
    public static Result Finish(Process process, int seconds = 600)
    {
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(seconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            throw new AssertionException($"facade did not finish within {seconds} s");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, output.Result, error.Result);
    }

    public static Result Run(params string[] args) => Finish(Start(args));

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FacadeOnnx.sln"))) return dir.FullName;
        throw new InvalidOperationException("FacadeOnnx.sln not found above " + AppContext.BaseDirectory);
    }
}
