using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// The engine as a package a .NET service references: `dotnet pack src/FacadeOnnx.Runtime` writes FacadeOnnx.Runtime
/// and the libraries it needs into a folder feed; a plain console project outside the repository (none of its
/// Directory.*.props apply) restores FacadeOnnx.Runtime from that feed plus the machine's own sources, runs the
/// README's example on a tiny gradient model, and gets the explanation the in-process <see cref="Explainer"/> gives,
/// with no TorchSharp or libtorch anywhere in its dependency closure.
/// </summary>
[TestFixture]
public class RuntimePackage
{
    const string Sentence = "a gorgeous, witty, seductive movie.";
    static readonly string[] OurPackages = ["FacadeOnnx.Runtime", "FacadeOnnx.Text", "FacadeOnnx.Graph", "FacadeOnnx.Core"];
    static readonly TimeSpan ChildTimeout = TimeSpan.FromMinutes(5);

    [Test]
    public void PackedRuntimeRestoresAndExplainsWithoutTorchSharp()
    {
        string root = RepositoryPaths.FindRepositoryRoot() ?? throw new InvalidOperationException("FacadeOnnx.sln not found above the test");
        // A version no earlier run used, so neither the global packages folder nor the HTTP cache can serve a stale copy.
        string version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        string work = Path.Combine(Path.GetTempPath(), "facade-package-test-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.That(Path.GetFullPath(work), Does.Not.StartWith(Path.GetFullPath(root) + Path.DirectorySeparatorChar), "the consumer lives outside the repository");
        string feed = Path.Combine(work, "feed"), consumer = Path.Combine(work, "consumer");
        Directory.CreateDirectory(feed);
        Directory.CreateDirectory(consumer);
        string? packagesFolder = null;
        bool passed = false;
        try
        {
            string model = AuditModels.PathOf("target-a");
            float[] expected;
            string[] expectedTokens;
            using (var explainer = Explainer.Load(model))
            {
                var map = explainer.Explain(Sentence, "ig");
                (expected, expectedTokens) = (map.Normalized, map.Tokens);
            }

            // Pack: Release, with build and restore output under the temporary folder (--artifacts-path), so the
            // repository's bin/ and obj/ are neither read nor touched.
            Run(root, "pack", Path.Combine(root, "src", "FacadeOnnx.Runtime", "FacadeOnnx.Runtime.csproj"), "-c", "Release",
                "-o", feed, $"-p:Version={version}", "--artifacts-path", Path.Combine(work, "artifacts"));
            foreach (string id in OurPackages)
                Assert.That(File.Exists(Path.Combine(feed, $"{id}.{version}.nupkg")), Is.True,
                    $"{id}.{version}.nupkg in the feed; it holds {string.Join(", ", Directory.GetFiles(feed).Select(Path.GetFileName))}");
            CheckRuntimeNuspec(Path.Combine(feed, $"FacadeOnnx.Runtime.{version}.nupkg"));

            // The consumer: what a service writes, nothing from the repository. Its nuget.config adds the folder feed
            // to the machine's sources (no <clear/>), which still serve ONNX Runtime and the rest.
            File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="FacadeOnnx.Runtime" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="facadeonnx-test-feed" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            // The README's example, printing round-trip scores (tab-separated) so they can be compared.
            File.WriteAllText(Path.Combine(consumer, "Program.cs"), """
                using System.Globalization;
                using FacadeOnnx.Runtime;

                using var explainer = Explainer.Load(args[0]);
                var map = explainer.Explain(args[1], "ig");
                foreach (var (token, score) in map.Tokens.Zip(map.Normalized))
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"score\t{token}\t{score:R}"));
                """);
            string output = Run(consumer, "run", "--project", Path.Combine(consumer, "Consumer.csproj"), "--", model, Sentence);

            var lines = output.Split('\n', StringSplitOptions.TrimEntries).Where(l => l.StartsWith("score\t")).Select(l => l.Split('\t')).ToArray();
            Assert.That(lines, Has.Length.EqualTo(expectedTokens.Length), $"one explanation, a line per word piece:\n{output}");
            Assert.That(lines.Select(l => l[1]), Is.EqualTo(expectedTokens), output);
            Assert.That(expectedTokens, Does.Contain("gorgeous").And.Contain("movie"), "a real sentence's word pieces");
            float[] actual = lines.Select(l => float.Parse(l[2], CultureInfo.InvariantCulture)).ToArray();
            Assert.That(actual, Is.EqualTo(expected).Within(1e-5), output);
            Assert.That(actual.Sum(), Is.EqualTo(1).Within(1e-4), "normalized scores");

            // The dependency closure the consumer restored: ours, ONNX Runtime and the tokenizer's; never TorchSharp,
            // libtorch or the MiniLM package.
            using var assets = JsonDocument.Parse(File.ReadAllText(Path.Combine(consumer, "obj", "project.assets.json")));
            packagesFolder = assets.RootElement.GetProperty("packageFolders").EnumerateObject().First().Name;
            string[] libraries = assets.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name).ToArray();
            string closure = string.Join(", ", libraries);
            foreach (string id in OurPackages)
                Assert.That(libraries, Does.Contain($"{id}/{version}"), closure);
            Assert.That(libraries, Does.Contain("Microsoft.ML.OnnxRuntime.Gpu.Linux/1.31.0"), closure);
            Assert.That(libraries.Where(l => l.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase)
                                             || l.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase)
                                             || l.StartsWith("SentenceTransformers", StringComparison.OrdinalIgnoreCase)), Is.Empty, closure);
            string[] files = Directory.GetFiles(Path.Combine(consumer, "bin"), "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToArray()!;
            Assert.That(files.Where(f => f.Contains("torch", StringComparison.OrdinalIgnoreCase) || f.Contains("MiniLM", StringComparison.OrdinalIgnoreCase)),
                Is.Empty, "the consumer's output carries no libtorch and no MiniLM");
            passed = true;
        }
        finally
        {
            // The test's own versions leave the global packages folder again; the work folder stays when the test failed.
            if (packagesFolder != null)
                foreach (string id in OurPackages)
                    TryDelete(Path.Combine(packagesFolder, id.ToLowerInvariant(), version));
            if (passed) TryDelete(work);
            else TestContext.Out.WriteLine($"kept {work} for inspection");
        }
    }

    /// <summary>Metadata a registry shows: id, version, MIT, the README (with the example), dependencies.</summary>
    static void CheckRuntimeNuspec(string nupkg)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        var nuspecEntry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec"));
        XDocument nuspec;
        using (var stream = nuspecEntry.Open()) nuspec = XDocument.Load(stream);
        var metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
        string text = nuspec.ToString();
        Assert.That(Field("id"), Is.EqualTo("FacadeOnnx.Runtime"), text);
        Assert.That(Field("license"), Is.EqualTo("MIT"), text);
        Assert.That(Field("readme"), Is.EqualTo("README.md"), text);
        Assert.That(Field("description"), Is.Not.Empty, text);
        Assert.That(Field("tags"), Is.Not.Empty, text);
        string[] dependencies = metadata.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string)e.Attribute("id")!).ToArray();
        Assert.That(dependencies, Is.SupersetOf(new[] { "FacadeOnnx.Text", "FacadeOnnx.Graph", "Microsoft.ML.OnnxRuntime.Gpu.Linux" }), text);
        Assert.That(dependencies.Where(d => d.StartsWith("TorchSharp") || d.StartsWith("libtorch") || d.StartsWith("SentenceTransformers")), Is.Empty, text);
        string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
        Assert.That(entries, Does.Contain("lib/net10.0/FacadeOnnx.Runtime.dll").And.Contain("README.md"), string.Join("\n", entries));
        using var reader = new StreamReader(zip.GetEntry("README.md")!.Open());
        Assert.That(reader.ReadToEnd(), Does.Contain("Explainer.Load(\"model.onnx\")"));
    }

    /// <summary>Runs `dotnet ARGS` in <paramref name="folder"/> and returns its output; fails with the output on a non-zero exit or a timeout.</summary>
    static string Run(string folder, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // No build servers (a lingering MSBuild node or compiler server would outlive the test and hold its pipes), and
        // none of the MSBuild variables the `dotnet test` that started us may have set.
        start.ArgumentList.Add(args[0]);
        start.ArgumentList.Add("--disable-build-servers");
        foreach (string arg in args[1..]) start.ArgumentList.Add(arg);
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(name);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";

        string command = "dotnet " + string.Join(" ", args);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {command}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        bool exited = process.WaitForExit(ChildTimeout);
        if (!exited) process.Kill(entireProcessTree: true);
        Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(30));
        string output = (stdout.IsCompletedSuccessfully ? stdout.Result : "") + (stderr.IsCompletedSuccessfully ? stderr.Result : "");
        TestContext.Out.WriteLine($"{command}: {clock.Elapsed.TotalSeconds:F1} s");
        Assert.That(exited, Is.True, $"{command} ran past {ChildTimeout.TotalMinutes} minutes:\n{Tail(output)}");
        Assert.That(process.ExitCode, Is.EqualTo(0), $"{command} failed:\n{Tail(output)}");
        return output;
    }

    static string Tail(string text, int length = 12_000) => text.Length <= length ? text : "…" + text[^length..];

    static void TryDelete(string path)
    {
        try { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
