using FacadeOnnx.Graph;
using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Tests;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// The disguised merges of <see cref="AuditModels"/> (`facade disguise` of merged-zero) through the exporter and the
/// engine: the permuted merge (and the permuted LayerNorm-filled one) computes what the merge computes, and the
/// forensics still read both merges' blocks; noise at 1e-3 and 1e-2 of each matrix's RMS hides them from the
/// structural signals. And the command itself, as a process.
/// </summary>
[TestFixture]
public class DisguisedMergeAuditTests
{
    static (float[][] Logits, float[][] Gradients) Run(GradientEngine engine, IReadOnlyList<Text.TokenizedInput> inputs)
    {
        var logits = new float[inputs.Count][];
        var gradients = new float[inputs.Count][];
        engine.Gradients(inputs.Select(i => engine.Sample(i)), (k, l, g) => (logits[k], gradients[k]) = (l.ToArray(), g.ToArray()));
        return (logits, gradients);
    }

    [TestCase("merged-zero", "merged-permuted")]
    [TestCase("merged-normed", "merged-normed-permuted-layernorm-fill")]
    public void DisguiseExportHasTheMergesLogitsAndGradientsInTheEngine(string original, string disguised)
    {
        using var merged = GradientEngine.Load(AuditModels.PathOf(original), new EngineOptions { Log = TextWriter.Null });
        using var permuted = GradientEngine.Load(AuditModels.PathOf(disguised), new EngineOptions { Log = TextWriter.Null });
        var inputs = TinyEngine.Sentences(32);
        var (logits, gradients) = Run(merged, inputs);
        var (permutedLogits, permutedGradients) = Run(permuted, inputs);
        int[] hidden = AuditModels.Permutation.Hidden;
        int h = merged.Hidden;
        Assert.That(permuted.Hidden, Is.EqualTo(h));
        Assert.That(permuted.Model.HiddenGroups, Is.EqualTo(AuditModels.Permutation.GroupOrder.Select(g => merged.Model.HiddenGroups[g])));
        double logitDiff = 0, gradDiff = 0, largest = 0;
        for (int i = 0; i < inputs.Count; i++)
        {
            logitDiff = Math.Max(logitDiff, ImportTests.MaxAbsDiff(permutedLogits[i], logits[i]));
            // Unit j of the permuted model is unit hidden[j] of the merge.
            for (int t = 0; t < inputs[i].Length; t++)
                for (int j = 0; j < h; j++)
                {
                    float expected = gradients[i][t * h + hidden[j]];
                    gradDiff = Math.Max(gradDiff, Math.Abs(permutedGradients[i][t * h + j] - expected));
                    largest = Math.Max(largest, Math.Abs(expected));
                }
        }
        TestContext.Out.WriteLine($"ONNX Runtime, 32 sentences: max logit change {logitDiff:E2}, max gradient change {gradDiff:E2} (largest |grad| {largest:E2})");
        Assert.That(largest, Is.GreaterThan(1e-3), "the gradients are not trivially zero");
        Assert.That(logitDiff, Is.LessThan(1e-5), "logits");
        Assert.That(gradDiff, Is.LessThan(1e-5), "inputs_embeds_grad, mapped back through the permutation");
    }

    static StructuralEvidence Evidence(string name)
    {
        var evidence = StructuralForensics.Analyze(OnnxFile.Read(AuditModels.PathOf(name)));
        TestContext.Out.WriteLine($"{name}: {evidence.BlockStructured} of {evidence.WeightMatrices} matrices in blocks, {evidence.SplitLayerNorms} split LayerNorms, " +
                                  $"{evidence.LogitParts} logit parts; {string.Join("; ", evidence.Findings.Take(2))}");
        return evidence;
    }

    [Test]
    public void ForensicsReadThePermutedMergesBlocksAsConnectedComponents()
    {
        var plain = Evidence("merged-zero");
        var permuted = Evidence("merged-permuted");
        Assert.That(permuted.WeightMatrices, Is.EqualTo(plain.WeightMatrices));
        Assert.That(permuted.BlockStructured, Is.EqualTo(plain.BlockStructured).And.EqualTo(plain.WeightMatrices), "every matrix still splits into blocks");
        Assert.That(permuted.SplitLayerNorms, Is.EqualTo(plain.SplitLayerNorms).And.GreaterThan(0));
        Assert.That(permuted.LogitParts, Is.EqualTo(2));
        var verdict = ManipulationVerdict.Decide(permuted, new BehaviouralSignals(1, 1, 0, 0, 0, 12), new VerdictThresholds());
        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Manipulated), "flagged from structure alone, whatever the behaviour");
    }

    [Test]
    public void ForensicsSetAsideWhatLayerNormCancels()
    {
        // The LayerNorm-cancelled fill leaves no zero block (connected components alone find one component per
        // matrix), but what it adds is invisible to the model, and the forensics project it out before looking.
        var normed = Evidence("merged-normed");
        var filled = Evidence("merged-normed-permuted-layernorm-fill");
        var weights = OnnxFile.Read(AuditModels.PathOf("merged-normed-permuted-layernorm-fill")).Graph.Initializer
            .Where(t => t.Name.EndsWith(".weight.T") && t.Dims.Count == 2 && Math.Min(t.Dims[0], t.Dims[1]) >= 16).ToList();
        int rawBlocky = weights.Count(t => StructuralForensics.Components(Tensors.ToFloats(t), (int)t.Dims[0], (int)t.Dims[1])
            .Count(c => c.Rows.Length >= 2 && c.Cols.Length >= 2) >= 2);
        TestContext.Out.WriteLine($"connected components of the raw weights: {rawBlocky} of {weights.Count} matrices in blocks");
        Assert.That(weights, Has.Count.EqualTo(filled.WeightMatrices));
        Assert.That(rawBlocky, Is.Zero, "the fill leaves no zero block to find");
        Assert.That(filled.BlockStructured, Is.EqualTo(normed.BlockStructured).And.EqualTo(filled.WeightMatrices));
        Assert.That(filled.LogitParts, Is.EqualTo(2));
        Assert.That(filled.Findings, Has.Some.Contains("only once the entries LayerNorm cancels are set aside"));
        Assert.That(normed.Findings, Has.None.Contains("LayerNorm cancels"), "a plain merge's blocks are there without it");
        var verdict = ManipulationVerdict.Decide(filled, new BehaviouralSignals(1, 1, 0, 0, 0, 12), new VerdictThresholds());
        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Manipulated));

        // The same in the forms older exports write: opset 11 (LayerNorm as ReduceMean, Sub, Pow, Sqrt, Div, Mul, Add;
        // split sizes as attributes).
        var model = AuditModels.ModelOf("merged-normed-permuted-layernorm-fill");
        var old = Training.Export.BertOnnxExporter.Forward(model, TinyModels.Manifest(model, "merged"), options: new Training.Export.ExportOptions { Opset = 11 });
        Assert.That(old.Graph.Node.Any(n => n.OpType == "LayerNormalization"), Is.False);
        var opset11 = StructuralForensics.Analyze(old);
        TestContext.Out.WriteLine($"opset 11: {opset11.BlockStructured} of {opset11.WeightMatrices} in blocks, {opset11.LogitParts} logit parts");
        Assert.That(opset11.BlockStructured, Is.EqualTo(opset11.WeightMatrices));
        Assert.That(opset11.LogitParts, Is.EqualTo(2));
    }

    [TestCaseSource(typeof(AuditModels), nameof(AuditModels.Noised))]
    public void NoiseAboveTheZeroThresholdHidesTheBlocks(string name)
    {
        // What the structural forensics find in merges whose off-diagonal blocks hold noise at 1e-3 or 1e-2 of each
        // matrix's RMS, ten or a hundred times the threshold under which they count entries as zero
        // (StructuralForensics.RelativeThreshold): no block, no separate logit parts; the split LayerNorm stays.
        var evidence = Evidence(name);
        Assert.That(evidence.BlockStructured, Is.Zero);
        Assert.That(evidence.LogitParts, Is.LessThanOrEqualTo(1));
        Assert.That(evidence.SplitLayerNorms, Is.GreaterThan(0), "the LayerNorm over split groups is still in the graph");
        var verdict = ManipulationVerdict.Decide(evidence, new BehaviouralSignals(1, 1, 0, 0, 0, 12), new VerdictThresholds());
        Assert.That(verdict.Verdict, Is.EqualTo(Verdict.Trusted), "structure alone no longer flags it; only behaviour can");
    }

    [TestCaseSource(typeof(AuditModels), nameof(AuditModels.Noised))]
    public void AuditVerdictOnNoisyDisguises(string name)
    {
        var options = new AuditOptions
        {
            Task = "sst2", Limit = 12, ChunkSize = 6, OutputFolder = Path.Combine(AuditModels.Folder, "audit-" + name), HeatmapSamples = 1,
            Engine = new EngineOptions { Log = TextWriter.Null },
        };
        var verdict = AuditRunner.Run(options, AuditModels.PathOf(name), null, TextWriter.Null).Model.Verdict;
        var b = verdict.Behaviour;
        TestContext.Out.WriteLine($"{name}: {verdict.Name}; overclaim simple {b.GradientOverclaim:F3}, SmoothGrad {b.SmoothOverclaim:F3} " +
                                  $"(threshold {verdict.Thresholds.MaxGradientOverclaim}); Spearman with leave-one-out {b.GradientLooAgreement:F2}; " +
                                  string.Join("; ", verdict.Reasons));
        Assert.That(verdict.Verdict, Is.Not.EqualTo(Verdict.Manipulated), "no structural signal fires");
        Assert.That(verdict.Structure.BlockStructured, Is.Zero);
    }

    [Test]
    public void TheCommandWritesADisguisedCheckpointAndNamesBadInput()
    {
        string root = Path.Combine(AuditModels.Folder, "disguise-cli");
        string input = Path.Combine(root, "merged"), output = Path.Combine(root, "disguised");
        var merged = AuditModels.ModelOf("merged-zero");
        Checkpoint.Save(merged, TinyModels.Manifest(merged, "merged"), input);

        var ok = FacadeCli.Run("disguise", "--model", input, "--out", output, "--permute", "--noise", "1e-3", "--seed", "4");
        TestContext.Out.WriteLine(ok);
        Assert.That(ok.ExitCode, Is.Zero, ok.ToString());
        Assert.That(ok.Output, Does.Contain("max logit change"));
        var manifest = Checkpoint.ReadManifest(output);
        Assert.That(manifest.Kind, Is.EqualTo("merged"));
        Assert.That(manifest.Settings["disguise_permute"], Is.EqualTo("true"));
        Assert.That(manifest.Settings["disguise_noise"], Is.EqualTo("0.001"));
        Assert.That(manifest.Metrics["disguise_filled_matrices"], Is.EqualTo(13));
        Assert.That(Directory.GetFiles(output, "*.tmp"), Is.Empty, "no temporary file left");

        foreach (var (args, named) in new (string[], string)[]
                 {
                     (["--model", Path.Combine(root, "missing"), "--out", Path.Combine(root, "x"), "--permute"], "--model"),
                     (["--model", input, "--out", Path.Combine(root, "x"), "--noise", "5"], "--noise 5"),
                     (["--model", input, "--out", Path.Combine(root, "x")], "--permute"),
                     (["--model", input, "--out", input, "--permute"], "--out"),
                     (["--model", output, "--out", Path.Combine(root, "x"), "--noise", "1e-2"], "already has non-zero"),
                 })
        {
            var bad = FacadeCli.Run(["disguise", .. args]);
            TestContext.Out.WriteLine(bad.Error.Trim());
            Assert.That(bad.ExitCode, Is.EqualTo(2), bad.ToString());
            Assert.That(bad.Error, Does.StartWith("error: ").And.Contain(named), bad.ToString());
            Assert.That(Directory.Exists(Path.Combine(root, "x")), Is.False, "nothing written");
        }
    }
}
