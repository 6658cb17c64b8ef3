using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Training.Tests;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>Audits of tiny merged and clean models on real SST-2 dev sentences: verdicts, reports, resumption.</summary>
[TestFixture]
public class AuditTests
{
    static AuditOptions Options(string output) => new()
    {
        Task = "sst2", Limit = 12, ChunkSize = 6, OutputFolder = output, HeatmapSamples = 3,
        Engine = new EngineOptions { Log = TextWriter.Null },
    };

    static readonly Dictionary<string, AuditReport> Reports = new();

    static AuditReport Audit(string model, string? compare = null)
    {
        string key = model + "|" + compare;
        lock (Reports)
        {
            if (!Reports.TryGetValue(key, out var report))
                Reports[key] = report = AuditRunner.Run(Options(Path.Combine(AuditModels.Folder, "audit-" + model + "-" + compare)),
                    AuditModels.PathOf(model), compare == null ? null : AuditModels.PathOf(compare), TextWriter.Null);
            return report;
        }
    }

    [TestCaseSource(typeof(AuditModels), nameof(AuditModels.Merged))]
    public void VerdictFlagsMergedModels(string model)
    {
        var verdict = Audit(model, "target-a").Model.Verdict;
        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Manipulated), string.Join("; ", verdict.Reasons));
        Assert.That(verdict.Structure.BlockFraction, Is.GreaterThanOrEqualTo(0.5));
        Assert.That(verdict.Structure.SplitLayerNorms, Is.GreaterThan(0));
        Assert.That(verdict.Structure.LogitParts, Is.EqualTo(2));
    }

    [TestCaseSource(typeof(AuditModels), nameof(AuditModels.Clean))]
    public void VerdictPassesCleanModels(string model)
    {
        var verdict = Audit(model).Model.Verdict;
        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Trusted), string.Join("; ", verdict.Reasons));
        Assert.That(verdict.Structure.BlockStructured, Is.EqualTo(0));
    }

    [Test]
    public void MergedModelKeepsTheTargetsPredictionsOnlyWhenTheFacadeIsFlat()
    {
        // The audit's tiny Facade is random, not trained to be flat: its logits add to the target's and move some
        // predictions, and the audit's comparison must show it.
        var comparison = Audit("merged-zero", "target-a").Comparison!;
        Assert.That(comparison.PredictionAgreement, Is.LessThan(1.0), "a Facade with an uneven output changes predictions");
        Assert.That(comparison.ReductionIoU, Is.InRange(0.0, 1.0));

        // A flat Facade (zero classifier: constant zero logits) merged into the same target keeps every logit.
        var facade = TinyModels.Create(seed: 23, TinyModels.Config(hidden: 32, layers: 2, intermediate: 64) with { Heads = 1 });
        using (TorchSharp.torch.no_grad())
        {
            facade.classifier.weight.zero_();
            facade.classifier.bias!.zero_();
        }
        var target = TinyModels.Create(seed: 21, TinyModels.Config(hidden: 64, layers: 2, intermediate: 128));
        string flat = Path.Combine(AuditModels.Folder, "merged-flat.onnx");
        Graph.OnnxFile.Write(Training.Export.BertOnnxExporter.Gradient(Training.Merging.Merge.Models(facade, target), TinyModels.Manifest(target, "merged")), flat);
        using var merged = GradientEngine.Load(flat, new EngineOptions { Log = TextWriter.Null });
        using var alone = GradientEngine.Load(AuditModels.PathOf("target-a"), new EngineOptions { Log = TextWriter.Null });
        var inputs = RealData.Sst2Dev.Examples.Take(12).Select(e => alone.Encode(e.Text, e.Pair)).ToArray();
        var withFacade = merged.Predict(inputs);
        var without = alone.Predict(inputs);
        for (int i = 0; i < inputs.Length; i++)
        {
            Assert.That(withFacade[i].Label, Is.EqualTo(without[i].Label), $"sentence {i}");
            // float32 sums over a wider hidden vector: the merged logits equal the target's to rounding.
            Assert.That(withFacade[i].Logits, Is.EqualTo(without[i].Logits).Within(1e-4), $"sentence {i}");
        }
    }

    [Test]
    public void ReportsAreWrittenAndTheJsonFollowsTheSchema()
    {
        var report = Audit("merged-noisy", "target-a");
        string folder = Path.Combine(AuditModels.Folder, "audit-merged-noisy-target-a");
        foreach (var file in new[] { "report.json", "report.md", "report.html" })
            Assert.That(File.Exists(Path.Combine(folder, file)), file);
        Assert.That(Directory.Exists(Path.Combine(folder, AuditRunner.StateFolder)), Is.False, "the resumable state is removed when the audit completes");
        Assert.That(ReportSchema.Violations(Path.Combine(folder, "report.json")), Is.Empty);
        Assert.That(File.ReadAllText(Path.Combine(folder, "report.md")), Does.Contain("| simple |").And.Contain("HotFlip").And.Contain("Verdict")
            .And.Contain("## Faithfulness").And.Contain("| loo | compare |"));
        Assert.That(report.Samples, Has.Count.EqualTo(3));
        foreach (var model in new[] { report.Model, report.Compare! })
        {
            Assert.That(model.Faithfulness!.Keys, Is.EquivalentTo(Saliency.SaliencyMethods.Standard), model.Role);
            Assert.That(model.Faithfulness.Values.Select(f => f.Count), Is.All.EqualTo(12), model.Role);
            Assert.That(model.Faithfulness.Values.Select(f => f.DeletionArea), Is.All.InRange(0.0, 1.0), model.Role);
        }
    }

    [Test]
    public void NoFaithfulnessLeavesTheMeasuresOut()
    {
        string folder = Path.Combine(AuditModels.Folder, "audit-no-faithfulness");
        var report = AuditRunner.Run(Options(folder) with { Limit = 4, Attacks = false, Faithfulness = false }, AuditModels.PathOf("target-b"), null, TextWriter.Null);
        Assert.That(report.Model.Faithfulness, Is.Null);
        Assert.That(report.Settings["faithfulness"], Is.EqualTo("off"));
        Assert.That(ReportSchema.Violations(Path.Combine(folder, "report.json")), Is.Empty);
        Assert.That(File.ReadAllText(Path.Combine(folder, "report.json")), Does.Not.Contain("comprehensiveness"));
        Assert.That(File.ReadAllText(Path.Combine(folder, "report.html")), Does.Not.Contain("deletion-curve"));
    }

    [Test]
    public void InterruptedAuditResumesAndGivesTheSameReport()
    {
        string folder = Path.Combine(AuditModels.Folder, "audit-resume");
        var options = Options(folder) with { InterruptAfterChunks = 1 };
        Assert.Throws<OperationCanceledException>(() => AuditRunner.Run(options, AuditModels.PathOf("target-b"), null, TextWriter.Null));
        var state = Directory.GetFiles(Path.Combine(folder, AuditRunner.StateFolder), "chunk-*.json", SearchOption.AllDirectories);
        Assert.That(state, Has.Length.EqualTo(1), "one finished chunk is kept");
        Assert.That(File.Exists(Path.Combine(folder, "report.json")), Is.False, "no half-written report");
        var log = new StringWriter();
        var resumed = AuditRunner.Run(options with { InterruptAfterChunks = null }, AuditModels.PathOf("target-b"), null, log);
        Assert.That(log.ToString(), Does.Contain("Resuming the audit: 1 of 2 chunks"));
        var fresh = Audit("target-b");
        Assert.That(resumed.Model.Accuracy, Is.EqualTo(fresh.Model.Accuracy));
        Assert.That(resumed.Model.FirstToken["simple"], Is.EqualTo(fresh.Model.FirstToken["simple"]));
        Assert.That(resumed.Model.HotFlip, Is.EqualTo(fresh.Model.HotFlip).Using<Metrics.HotFlipSummary>((a, b) =>
            a.AttackEffectiveness == b.AttackEffectiveness && a.Flip1Rate == b.Flip1Rate && a.Count == b.Count));
    }

    [Test]
    public void HtmlReportRendersInHeadlessChromium()
    {
        Audit("merged-zero", "target-a");
        string html = Path.Combine(AuditModels.Folder, "audit-merged-zero-target-a", "report.html");
        string png = Path.Combine(AuditModels.Folder, "report.png");
        string chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
            ?? throw new AssertionException("Debian's chromium is needed to render the report (apt-get install chromium; .ci/run installs it).");
        var start = new System.Diagnostics.ProcessStartInfo(chromium)
        {
            RedirectStandardError = true, RedirectStandardOutput = true,
            ArgumentList = { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                             "--disable-component-update", "--disable-sync", $"--user-data-dir={Path.Combine(AuditModels.Folder, "chromium-profile")}",
                             $"--screenshot={png}", "--window-size=1200,4000", new Uri(html).AbsoluteUri },
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit(120_000);
        Assert.That(process.ExitCode, Is.EqualTo(0), errors);
        byte[] bytes = File.ReadAllBytes(png);
        Assert.That(bytes[..8], Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "a PNG screenshot");
        Assert.That(bytes.Length, Is.GreaterThan(20_000), "the page has content");
        Assert.That(errors, Does.Not.Contain("Uncaught").And.Not.Contain("ERR_FILE_NOT_FOUND"));

        // The deletion curves: a chart per method with a line per model, and the screenshot shows both lines' colours
        // over far more pixels than the legends' short strokes could paint (four charts of 2.5-pixel lines ~300 wide).
        string page = File.ReadAllText(html);
        Assert.That(System.Text.RegularExpressions.Regex.Count(page, "<svg [^>]*class=\"deletion-curves\""), Is.EqualTo(4));
        Assert.That(System.Text.RegularExpressions.Regex.Count(page, "<polyline class=\"deletion-curve\""), Is.EqualTo(8));
        foreach (var (role, colour) in Runtime.Reports.SvgDeletionCurves.Colours)
        {
            byte[] rgb = Convert.FromHexString(colour.TrimStart('#'));
            Assert.That(PngPixels.Count(bytes, rgb[0], rgb[1], rgb[2]), Is.GreaterThan(1000), $"the {role} curves are drawn in the screenshot");
        }
    }
}
