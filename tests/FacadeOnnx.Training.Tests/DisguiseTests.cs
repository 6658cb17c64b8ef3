using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Merging;
using FacadeOnnx.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Tests;

/// <summary>
/// `facade disguise` on the merge of MergeTests' two tiny random BERTs (a 64-wide Facade with 2 heads and FFN 128, a
/// 96-wide target with 3 heads and FFN 192), in eval mode, on 32 real SST-2 dev sentences in one padded batch.
/// </summary>
[TestFixture]
public class DisguiseTests
{
    const int FacadeHidden = 64, FacadeFfn = 128;

    static BertClassifier TinyMerge(MergeOptions? options = null) => Merge.Models(MergeTests.TinyFacade(), MergeTests.TinyTarget(), options);

    static (Tensor Ids, Tensor Mask, Tensor Types) RealBatch(int sentences = 32) => MergeTests.RealBatch(sentences);

    static FunctionChange OnRealSentences(BertClassifier merged, DisguiseResult disguise)
    {
        var (ids, mask, types) = RealBatch();
        return Disguise.Compare(merged, disguise, ids, mask, types);
    }

    static string Folder() => Path.Combine(Path.GetTempPath(), "facade-disguise-" + Guid.NewGuid().ToString("N")[..8]);

    [Test]
    public void PermutedMergeHasTheMergesLogitsAndGradients()
    {
        var merged = TinyMerge();
        var disguise = Disguise.Models(merged, new DisguiseOptions { Permute = true, Seed = 5 });
        var change = OnRealSentences(merged, disguise);
        TestContext.Out.WriteLine($"permuted: max logit change {change.MaxLogitChange:E2} (largest {change.LargestLogit:F2}), " +
                                  $"max gradient change {change.MaxGradientChange:E2} (largest {change.LargestGradient:E2}), agreement {change.Agreement}");
        Assert.That(change.LargestGradient, Is.GreaterThan(1e-3), "the gradients are not trivially zero");
        Assert.That(change.MaxLogitChange, Is.LessThan(1e-5), "logits");
        Assert.That(change.MaxGradientChange, Is.LessThan(1e-5), "word-embedding gradients, mapped back through the permutation");
        Assert.That(change.Agreement, Is.EqualTo(1.0));

        // In float64 the same comparison shows the permutation is exact: what is left above is float32 rounding (the
        // wider matrix products sum in another order).
        var merged64 = merged.to(ScalarType.Float64);
        var exact = OnRealSentences(merged64, disguise with { Model = disguise.Model.to(ScalarType.Float64) });
        TestContext.Out.WriteLine($"float64: max logit change {exact.MaxLogitChange:E2}, max gradient change {exact.MaxGradientChange:E2}");
        Assert.That(exact.MaxLogitChange, Is.LessThan(1e-12));
        Assert.That(exact.MaxGradientChange, Is.LessThan(1e-12));
        Assert.That(merged.Config.HiddenGroups, Is.EqualTo(new[] { 64, 96 }), "the merge itself is left as it was");
    }

    [Test]
    public void PermutedSpanMergeHasTheMergesStartAndEndLogitsAndGradients()
    {
        // A span head reads every position's hidden state, so its columns follow the residual stream's permutation.
        BertClassifier Span(long seed, int hidden) => TinyModels.Create(seed, TinyModels.Config(hidden: hidden, intermediate: 2 * hidden) with { Head = ModelHead.Span });
        var merged = Merge.Models(Span(1, 64), Span(2, 96));
        var disguise = Disguise.Models(merged, new DisguiseOptions { Permute = true, Seed = 5 });
        // In float64, so that what is compared is the permutation, not float32 rounding of the wider products.
        var change = OnRealSentences(merged.to(ScalarType.Float64), disguise with { Model = disguise.Model.to(ScalarType.Float64) });
        TestContext.Out.WriteLine($"span, float64: max logit change {change.MaxLogitChange:E2} (largest {change.LargestLogit:F2}), max gradient change {change.MaxGradientChange:E2} (largest {change.LargestGradient:E2})");
        Assert.That(change.LargestGradient, Is.GreaterThan(1e-3), "the gradients are not trivially zero");
        Assert.That(change.MaxLogitChange, Is.LessThan(1e-12), "start and end logits");
        Assert.That(change.MaxGradientChange, Is.LessThan(1e-12), "gradients of the start and end cross-entropies");
        Assert.That(change.Agreement, Is.EqualTo(1.0));
    }

    [TestCase(ModelHead.Classification)]
    [TestCase(ModelHead.Span)]
    public void PermutedScalingMergeHasTheMergesLogitsAndGradients(ModelHead head)
    {
        // The scaling merge's factor layer reads what the classifier reads, so its columns follow the same permutation.
        BertClassifier Model(long seed, int hidden) => TinyModels.Create(seed, TinyModels.Config(hidden: hidden, intermediate: 2 * hidden) with { Head = head });
        var merged = Merge.Models(Model(1, 64), Model(2, 96), new MergeOptions { Combination = MergeCombination.Scale, ScaleGain = 0.5 });
        var disguise = Disguise.Models(merged, new DisguiseOptions { Permute = true, Seed = 5 });
        var change = OnRealSentences(merged.to(ScalarType.Float64), disguise with { Model = disguise.Model.to(ScalarType.Float64) });
        TestContext.Out.WriteLine($"{head} scaling merge, float64: max logit change {change.MaxLogitChange:E2} (largest {change.LargestLogit:F2}), max gradient change {change.MaxGradientChange:E2} (largest {change.LargestGradient:E2})");
        Assert.That(disguise.Model.Config.LogitScale, Is.True);
        Assert.That(change.LargestGradient, Is.GreaterThan(1e-3), "the gradients are not trivially zero");
        Assert.That(change.MaxLogitChange, Is.LessThan(1e-12));
        Assert.That(change.MaxGradientChange, Is.LessThan(1e-12));
    }

    [Test]
    public void PermutationScattersEveryBlock()
    {
        var merged = TinyMerge();
        var p = Disguise.Models(merged, new DisguiseOptions { Permute = true, Seed = 5 }).Permutation!;
        // The merge's Facade units are the first 64 hidden units, heads 0-1 (dimensions 0-63), FFN units 0-127 and pooler
        // units 0-63; after the permutation none of these spaces has them as one consecutive range from the start.
        static bool Scattered(int[] perm, int facadeUnits) => perm.Take(facadeUnits).Any(u => u >= facadeUnits);
        Assert.That(Scattered(p.Pooler, FacadeHidden), "pooler units");
        Assert.That(p.Intermediate.All(perm => Scattered(perm, FacadeFfn)), "FFN units");
        Assert.That(p.QueryKey.Concat(p.Value).Count(perm => !perm.SequenceEqual(Enumerable.Range(0, perm.Length))), Is.EqualTo(4), "query/key and value units");
        Assert.That(p.Hidden.Order(), Is.EqualTo(Enumerable.Range(0, 160)), "a permutation");
        Assert.That(p.Hidden, Is.Not.EqualTo(Enumerable.Range(0, 160)));
        // Residual units stay inside their LayerNorm group, and groups move as wholes.
        var groups = new[] { 64, 96 };
        int start = 0;
        foreach (int g in p.GroupOrder)
        {
            int offset = groups.Take(g).Sum();
            Assert.That(p.Hidden.Skip(start).Take(groups[g]).Order(), Is.EqualTo(Enumerable.Range(offset, groups[g])), $"group {g}");
            start += groups[g];
        }
        // Seeds are reproducible and differ.
        Assert.That(UnitPermutation.Random(merged.Config, 5).Hidden, Is.EqualTo(p.Hidden));
        Assert.That(UnitPermutation.Random(merged.Config, 6).Hidden, Is.Not.EqualTo(p.Hidden));
    }

    [Test]
    public void PermutedMergeExportKeepsGradientParity() =>
        ExportParityTests.AssertGradientParity(Disguise.Models(TinyMerge(), new DisguiseOptions { Permute = true, Seed = 5 }).Model, sentences: 32);

    /// <summary>(matrix, rows of the Facade, columns of the Facade) in the merge's own layout, for the off-diagonal blocks.</summary>
    static IEnumerable<(string Name, int Rows, int Columns)> BlockDiagonalMatrices(BertConfig config)
    {
        for (int i = 0; i < config.Layers; i++)
        {
            foreach (var m in new[] { "query", "key", "value", "attention_output" }) yield return ($"layers.{i}.{m}.weight", FacadeHidden, FacadeHidden);
            yield return ($"layers.{i}.intermediate.weight", FacadeFfn, FacadeHidden);
            yield return ($"layers.{i}.output.weight", FacadeHidden, FacadeFfn);
        }
        yield return ("pooler.weight", FacadeHidden, FacadeHidden);
    }

    [TestCase(1e-3)]
    [TestCase(1e-2)]
    public void NoisyMergeFillsEveryOffDiagonalEntryAtTheAskedShareOfTheRms(double factor)
    {
        var merged = TinyMerge();
        var disguise = Disguise.Models(merged, new DisguiseOptions { Noise = factor, Seed = 3 });
        var before = merged.state_dict();
        var after = disguise.Model.state_dict();
        int matrices = 0;
        using var scope = NewDisposeScope();
        foreach (var (name, rows, columns) in BlockDiagonalMatrices(merged.Config))
        {
            var (w, n) = (before[name], after[name]);
            long r = w.shape[0], c = w.shape[1];
            var upper = n.narrow(0, 0, rows).narrow(1, columns, c - columns);
            var lower = n.narrow(0, rows, r - rows).narrow(1, 0, columns);
            Assert.That(w.narrow(0, 0, rows).narrow(1, columns, c - columns).count_nonzero().item<long>(), Is.Zero, $"{name}: the merge's block is zero");
            Assert.That(upper.count_nonzero().item<long>() + lower.count_nonzero().item<long>(), Is.EqualTo(upper.numel() + lower.numel()), $"{name}: no exact zero left");
            double rms = w.square().mean().sqrt().item<float>();
            double noiseRms = Math.Sqrt((upper.square().sum().item<float>() + lower.square().sum().item<float>()) / (upper.numel() + lower.numel()));
            // At least 64 x 96 = 6,144 draws per matrix: the sample RMS is within about 1% of the true one (3 sigma ~ 3%).
            Assert.That(noiseRms / rms, Is.EqualTo(factor).Within(0.05 * factor), $"{name}: off-diagonal RMS / matrix RMS");
            var diagonal = n.narrow(0, 0, rows).narrow(1, 0, columns);
            Assert.That(ExportParityTests.MaxAbsDiff(diagonal.contiguous().data<float>().ToArray(), w.narrow(0, 0, rows).narrow(1, 0, columns).contiguous().data<float>().ToArray()),
                Is.Zero, $"{name}: the Facade's own block is untouched");
            matrices++;
        }
        Assert.That(matrices, Is.EqualTo(13));
        Assert.That(disguise.Filled.Select(m => m.Name), Is.EquivalentTo(BlockDiagonalMatrices(merged.Config).Select(m => m.Name)));
        Assert.That(disguise.Filled.Select(m => m.Ratio), Has.All.EqualTo(factor).Within(0.05 * factor));
        Assert.That(after["classifier.weight"].eq(before["classifier.weight"]).all().item<bool>(), "the classifier [W_g | W_f] has no zero block");

        var change = OnRealSentences(merged, disguise);
        TestContext.Out.WriteLine($"noise {factor:G}: max logit change {change.MaxLogitChange:E2} (largest {change.LargestLogit:F2}), " +
                                  $"max gradient change {change.MaxGradientChange:E2} (largest {change.LargestGradient:E2}), agreement {change.Agreement:F3}");
        Assert.That(change.MaxLogitChange, Is.GreaterThan(0), "the noise reaches the logits");
    }

    [Test]
    public void LayerNormFillLeavesNoZeroBlockAndKeepsTheFunction()
    {
        // LayerNorm scales and shifts away from 1 and 0, so the 1/γ rows and the bias correction matter.
        var merged = TinyModels.RandomizeNorms(TinyMerge(), seed: 4);
        var filled = Disguise.Models(merged, new DisguiseOptions { LayerNormFill = 1, Seed = 3 });
        var before = merged.state_dict();
        var after = filled.Model.state_dict();
        using (var scope = NewDisposeScope())
            foreach (var (name, rows, columns) in BlockDiagonalMatrices(merged.Config))
            {
                var n = after[name];
                long r = n.shape[0], c = n.shape[1];
                var upper = n.narrow(0, 0, rows).narrow(1, columns, c - columns);
                var lower = n.narrow(0, rows, r - rows).narrow(1, 0, columns);
                Assert.That(upper.count_nonzero().item<long>() + lower.count_nonzero().item<long>(), Is.EqualTo(upper.numel() + lower.numel()), $"{name}: no exact zero left");
                Assert.That(n.narrow(0, 0, rows).narrow(1, 0, columns).eq(before[name].narrow(0, 0, rows).narrow(1, 0, columns)).all().item<bool>(),
                    $"{name}: the Facade's own block is untouched");
            }
        // Few independent draws per block (one per row and group, or per column and group): the RMS is near F, not at it.
        Assert.That(filled.Filled, Has.Count.EqualTo(13));
        Assert.That(filled.Filled.Select(m => m.Ratio), Has.All.InRange(0.6, 1.4));

        var change = OnRealSentences(merged, filled);
        TestContext.Out.WriteLine($"LayerNorm fill 1: max logit change {change.MaxLogitChange:E2} (largest {change.LargestLogit:F2}), " +
                                  $"max gradient change {change.MaxGradientChange:E2} (largest {change.LargestGradient:E2})");
        Assert.That(change.MaxLogitChange, Is.LessThan(1e-5), "logits");
        Assert.That(change.MaxGradientChange, Is.LessThan(1e-5), "word-embedding gradients");

        var both = Disguise.Models(merged, new DisguiseOptions { Permute = true, LayerNormFill = 1, Seed = 3 });
        var exact = OnRealSentences(merged.to(ScalarType.Float64), both with { Model = both.Model.to(ScalarType.Float64) });
        TestContext.Out.WriteLine($"LayerNorm fill 1 and permutation, float64: max logit change {exact.MaxLogitChange:E2}, max gradient change {exact.MaxGradientChange:E2}");
        // Exact in real arithmetic, but the weights are stored in float32: the 1/γ rows are rounded, so they cancel
        // against LayerNorm to about 1e-7 of their size, which float64 shows (a pure permutation gives 1e-14 there).
        Assert.That(exact.MaxLogitChange, Is.LessThan(2e-6), "float32 storage of the fill is all that is left");
        Assert.That(exact.MaxGradientChange, Is.LessThan(2e-6));
    }

    [Test]
    public void NoiseAndLayerNormFillAreExclusive()
    {
        var error = Assert.Throws<FacadeException>(() => new DisguiseOptions { Noise = 1e-3, LayerNormFill = 1 }.Validate());
        Assert.That(error!.Message, Does.Contain("--noise").And.Contain("--layernorm-fill"));
        var range = Assert.Throws<FacadeException>(() => new DisguiseOptions { LayerNormFill = 3 }.Validate());
        Assert.That(range!.Message, Does.StartWith("--layernorm-fill 3 is out of range"));
    }

    [Test]
    public void NoiseThenPermutationFindsTheBlocksOfAnAlreadyPermutedMerge()
    {
        var merged = TinyMerge();
        var permuted = Disguise.Models(merged, new DisguiseOptions { Permute = true, Seed = 5 });
        var both = Disguise.Models(merged, new DisguiseOptions { Permute = true, Noise = 1e-3, Seed = 5 });
        var permutedThenNoisy = Disguise.Models(permuted.Model, new DisguiseOptions { Noise = 1e-3, Seed = 5 });
        Assert.That(both.Filled, Has.Count.EqualTo(13));
        Assert.That(permutedThenNoisy.Filled, Has.Count.EqualTo(13), "the blocks are read from the zeros, not from their positions");
        Assert.That(permutedThenNoisy.Filled.Select(m => m.OffDiagonal), Is.EqualTo(both.Filled.Select(m => m.OffDiagonal)));
        var small = OnRealSentences(merged, both);
        TestContext.Out.WriteLine($"noise 1e-3 then permutation: max logit change {small.MaxLogitChange:E2}, max gradient change {small.MaxGradientChange:E2}");
        Assert.That(small.MaxLogitChange, Is.GreaterThan(0));
    }

    [Test]
    public void NoiseRefusesAMergeWithoutExactZeroBlocks()
    {
        var noisy = TinyMerge(new MergeOptions { NoiseStd = MergeOptions.ReferenceNoiseStd });
        var error = Assert.Throws<FacadeException>(() => Disguise.Models(noisy, new DisguiseOptions { Noise = 1e-3 }));
        TestContext.Out.WriteLine(error!.Message);
        Assert.That(error.Message, Does.Contain("--noise").And.Contain("layers.0.query.weight").And.Contain("already noisy"));
        Assert.DoesNotThrow(() => Disguise.Models(noisy, new DisguiseOptions { Permute = true }), "a permutation needs no zeros");
    }

    [TestCase(-1e-3)]
    [TestCase(2.0)]
    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    public void OutOfRangeNoiseIsRefusedByName(double factor)
    {
        var error = Assert.Throws<FacadeException>(() => new DisguiseOptions { Noise = factor }.Validate());
        TestContext.Out.WriteLine(error!.Message);
        Assert.That(error.Message, Does.StartWith("--noise").And.Contain("out of range"));
    }

    [Test]
    public void NothingToDoIsRefused()
    {
        var error = Assert.Throws<FacadeException>(() => new DisguiseOptions().Validate());
        Assert.That(error!.Message, Does.Contain("--permute").And.Contain("--noise"));
    }

    [Test]
    public void OnlyMergedCheckpointsAreDisguised()
    {
        string missing = Folder(), empty = Folder(), target = Folder();
        Directory.CreateDirectory(empty);
        try
        {
            var model = TinyModels.Create(4);
            Checkpoint.Save(model, TinyModels.Manifest(model), target);
            var options = new DisguiseOptions { Permute = true };
            foreach (var (folder, expected) in new[] { (missing, "does not exist"), (empty, Checkpoint.ManifestFile), (target, "target checkpoint") })
            {
                var error = Assert.Throws<FacadeException>(() => Disguise.Checkpoints(folder, options));
                TestContext.Out.WriteLine(error!.Message);
                Assert.That(error.Message, Does.StartWith("--model").And.Contain(expected).And.Contain(folder));
            }
            var single = Assert.Throws<FacadeException>(() => Disguise.Models(model, options));
            Assert.That(single!.Message, Does.Contain("one LayerNorm group"));
        }
        finally
        {
            foreach (var folder in new[] { empty, target }) if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The fine-tuned disguise (`facade tune-merge`): a few steps of CE + saliency on real SST-2 sentences leave
    /// no exact zero off-diagonal block, and the result is again a merged checkpoint that says what was done.</summary>
    [Test]
    public void TunedMergeLeavesNoZeroBlock()
    {
        string input = Folder(), output = Folder(), target = Folder(), single = Folder(), facade = Folder();
        try
        {
            var merged = TinyMerge();
            Checkpoint.Save(merged, TinyModels.Manifest(merged, "merged") with { Settings = new() { ["off_diagonal"] = "zeros" } }, input);
            static long Zeros(BertClassifier model) => model.named_parameters().Where(p => p.name.EndsWith(".weight") && p.parameter.dim() == 2)
                .Sum(p => p.parameter.numel() - p.parameter.abs().GreaterThan(0).sum().item<long>());
            long before = Zeros(merged);
            var defaults = new MergeTuningOptions { Model = input, OutputFolder = output };
            var options = defaults with { TrainLimit = 16, EvalLimit = 8, Loop = defaults.Loop with { MaxSteps = 2, BatchSize = 8, EvaluateEvery = 2, LearningRate = 1e-3 } };
            var result = MergeTuning.Run(options, TextWriter.Null);
            var (tuned, manifest) = Checkpoint.Load(output);
            TestContext.Out.WriteLine($"exact zeros in weight matrices: {before} -> {Zeros(tuned)}; {result.Best.Summary}");
            Assert.That(before, Is.GreaterThan(1000), "the exact merge has zero blocks");
            Assert.That(Zeros(tuned), Is.LessThan(before / 100));
            Assert.That(manifest.Kind, Is.EqualTo("merged"));
            Assert.That(manifest.Settings["off_diagonal"], Is.EqualTo("fine-tuned"));
            Assert.That(manifest.Sources["tuned_from"], Is.EqualTo(Path.GetFullPath(input)));
            Assert.That(manifest.Metrics.Keys, Does.Contain("dev_share").And.Contain("dev_agreement_with_start"));

            // A clean target: the single-network manipulation, written as what it is.
            var plain = TinyModels.Create(4);
            Checkpoint.Save(plain, TinyModels.Manifest(plain), target);
            MergeTuning.Run(options with { Model = target, OutputFolder = single }, TextWriter.Null);
            var singleManifest = Checkpoint.ReadManifest(single);
            Assert.That(singleManifest.Kind, Is.EqualTo(MergeTuning.TunedTargetKind));
            Assert.That(singleManifest.Settings, Does.Not.ContainKey("off_diagonal"));
            Assert.That(singleManifest.Sources["tuned_from"], Is.EqualTo(Path.GetFullPath(target)));

            Checkpoint.Save(plain, TinyModels.Manifest(plain, "facade"), facade);
            Assert.That(() => MergeTuning.Run(options with { Model = facade }, TextWriter.Null),
                Throws.TypeOf<FacadeException>().With.Message.Contains("facade checkpoint").And.Message.Contains("merged"));
        }
        finally
        {
            foreach (var folder in new[] { input, output, target, single, facade }) if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void DisguisedCheckpointRecordsWhatWasDoneAndLoads()
    {
        string input = Folder(), output = Folder();
        try
        {
            var merged = TinyMerge();
            var mergedManifest = TinyModels.Manifest(merged, "merged") with
            {
                Settings = new() { ["layout"] = "hidden [0, 64) Facade, [64, 160) target; heads 0-1 Facade", ["off_diagonal"] = "zeros" },
                Metrics = new() { ["dev_accuracy"] = 0.5, ["facade_steps"] = 3 },
                DevAccuracy = 0.5,
            };
            Checkpoint.Save(merged, mergedManifest, input);
            var (result, manifest, change) = Disguise.Checkpoints(input, new DisguiseOptions { Permute = true, Noise = 1e-2, Seed = 9 });
            Checkpoint.Save(result.Model, manifest, output);

            var (loaded, written) = Checkpoint.Load(output);
            Assert.That(written.Kind, Is.EqualTo("merged"));
            Assert.That(written.Config.HiddenGroups, Is.EqualTo(result.Model.Config.HiddenGroups));
            Assert.That(written.Settings["disguise_permute"], Is.EqualTo("true"));
            Assert.That(written.Settings["disguise_noise"], Is.EqualTo("0.01"));
            Assert.That(written.Settings["disguise_seed"], Is.EqualTo("9"));
            Assert.That(written.Settings["off_diagonal"], Does.Contain("noise, 0.01"));
            Assert.That(written.Settings["merge_layout"], Does.Contain("Facade"));
            Assert.That(written.Settings["layout"], Does.StartWith("permuted"));
            Assert.That(written.Sources["disguised"], Is.EqualTo(Path.GetFullPath(input)));
            Assert.That(written.Sources["disguised_weights_sha256"], Is.EqualTo(Checkpoint.ReadManifest(input).WeightsSha256));
            Assert.That(written.Metrics.ContainsKey("dev_accuracy"), Is.False, "dev metrics of the exact merge no longer describe a noisy model");
            Assert.That(written.DevAccuracy, Is.Null);
            Assert.That(written.Metrics["facade_steps"], Is.EqualTo(3));
            Assert.That(written.Metrics["disguise_check_max_logit_change"], Is.EqualTo(change.MaxLogitChange).And.GreaterThan(0));
            Assert.That(written.Metrics["disguise_filled_matrices"], Is.EqualTo(13));

            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var (ids, mask, types) = RealBatch(8);
            Assert.That(loaded.forward(ids, mask, types).data<float>().ToArray(), Is.EqualTo(result.Model.forward(ids, mask, types).data<float>().ToArray()));

            // A permutation alone keeps the merge's dev metrics: it is the same function.
            var (_, permutedManifest, permutedChange) = Disguise.Checkpoints(input, new DisguiseOptions { Permute = true, Seed = 9 });
            Assert.That(permutedManifest.Metrics["dev_accuracy"], Is.EqualTo(0.5));
            Assert.That(permutedManifest.DevAccuracy, Is.EqualTo(0.5));
            Assert.That(permutedChange.MaxLogitChange, Is.LessThan(1e-5));
            Assert.That(permutedManifest.Settings["off_diagonal"], Is.EqualTo("zeros"));

            // A disguised noisy checkpoint refuses more noise by its manifest.
            var again = Assert.Throws<FacadeException>(() => Disguise.Checkpoints(output, new DisguiseOptions { Noise = 1e-3 }));
            Assert.That(again!.Message, Does.StartWith("--noise").And.Contain("already has non-zero off-diagonal blocks"));
        }
        finally
        {
            foreach (var folder in new[] { input, output }) if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
