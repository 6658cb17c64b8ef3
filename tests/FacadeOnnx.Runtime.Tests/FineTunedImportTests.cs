using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Import;
using FacadeOnnx.Training.Tests;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// The import round trip on a fine-tuned MiniLM target: its forward export (input_ids to logits), imported, against
/// its own gradient export, on 32 real SST-2 dev sentences, and the same audit on both. Explicit: it needs the quick
/// reproduction's files (`./facade reproduce --task sst2 --quick`, then `facade export` without --gradients; see the
/// README, "Audit your own model"); FACADE_FINETUNED_DIR points elsewhere.
/// </summary>
[TestFixture, Explicit("needs runs/sst2-quick/target.onnx and target.forward.onnx (not in git)")]
public class FineTunedImportTests
{
    static string Folder => Environment.GetEnvironmentVariable("FACADE_FINETUNED_DIR") is { Length: > 0 } dir ? dir
        : Path.Combine(RepositoryPaths.FindRepositoryRoot()!, "runs", "sst2-quick");

    [Test]
    public void ImportedForwardExportMatchesTheGradientExport()
    {
        string imported = Path.Combine(Path.GetTempPath(), "facade-finetuned-import-" + Guid.NewGuid().ToString("N")[..8] + ".onnx");
        ModelImport.ToFile(new ImportRequest { OnnxPath = Path.Combine(Folder, "target.forward.onnx") }, imported);
        var options = new EngineOptions { Log = TextWriter.Null };
        using var own = GradientEngine.Load(Path.Combine(Folder, "target.onnx"), options);
        using var other = GradientEngine.Load(imported, options);
        var inputs = RealData.VariedSst2Dev(32).Select(e => own.Encode(e.Text)).ToArray();
        var (ownLogits, ownGrads) = ImportTests.Run(own, inputs);
        var (otherLogits, otherGrads) = ImportTests.Run(other, inputs);
        double logitDiff = ImportTests.MaxAbsDiff(ownLogits, otherLogits), gradDiff = ImportTests.MaxAbsDiff(ownGrads, otherGrads);
        TestContext.Out.WriteLine($"fine-tuned target, imported vs exported, 32 sentences: logits {logitDiff:E2} of {ownLogits.Max(Math.Abs):E2}, " +
                                  $"gradients {gradDiff:E2} of {ownGrads.Max(Math.Abs):E2}");
        Assert.That(logitDiff, Is.LessThanOrEqualTo(1e-5 * ownLogits.Max(Math.Abs)));
        Assert.That(gradDiff, Is.LessThanOrEqualTo(1e-5 * ownGrads.Max(Math.Abs)));

        ModelAudit Audit(string model) => AuditRunner.Run(new AuditOptions
        {
            Task = "sst2", Limit = 32, Attacks = false, HeatmapSamples = 1,
            OutputFolder = Path.Combine(Path.GetTempPath(), "facade-finetuned-audit-" + Guid.NewGuid().ToString("N")[..8]),
            Engine = options,
        }, model, null, TextWriter.Null).Model;
        var a = Audit(Path.Combine(Folder, "target.onnx"));
        var b = Audit(imported);
        Assert.That(b.Verdict.Verdict, Is.EqualTo(a.Verdict.Verdict));
        Assert.That(b.Accuracy, Is.EqualTo(a.Accuracy));
        foreach (var (method, metrics) in a.FirstToken)
            Assert.That(b.FirstToken[method].MeanReciprocalRank, Is.EqualTo(metrics.MeanReciprocalRank).Within(1e-6), method);
        Assert.That(b.Verdict.Behaviour.GradientOverclaim, Is.EqualTo(a.Verdict.Behaviour.GradientOverclaim).Within(1e-6));
        TestContext.Out.WriteLine($"audit of both: verdict {a.Verdict.Name}, overclaim {a.Verdict.Behaviour.GradientOverclaim:F4} / {b.Verdict.Behaviour.GradientOverclaim:F4}");
    }
}
