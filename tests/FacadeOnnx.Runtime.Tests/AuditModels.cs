using FacadeOnnx.Graph;
using FacadeOnnx.Training.Export;
using FacadeOnnx.Training.Merging;
using FacadeOnnx.Training.Model;
using FacadeOnnx.Training.Tests;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// Tiny models for the audit tests, exported as gradient models (and as forward models, for `facade import`): two clean targets of different widths, and a tiny
/// Facade merged into the first target with exact zero and with 1e-7 noise off-diagonal blocks (docs/method.md 7.6), and
/// the exact merge disguised (`facade disguise`): permuted, with noise at 1e-3 and 1e-2 of each matrix's RMS, and both;
/// and the exact merge with random LayerNorm parameters, alone and permuted with a LayerNorm-cancelled fill.
/// </summary>
public static class AuditModels
{
    /// <summary>The seed of the disguised models' permutation and noise.</summary>
    public const long DisguiseSeed = 3;

    static readonly Lazy<(string Folder, UnitPermutation Permutation, Dictionary<string, BertClassifier> Models)> Built = new(() =>
    {
        string folder = Path.Combine(Path.GetTempPath(), "facade-audit-tests-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        var targetA = TinyModels.Create(seed: 21, TinyModels.Config(hidden: 64, layers: 2, intermediate: 128));
        var targetB = TinyModels.Create(seed: 22, TinyModels.Config(hidden: 96, layers: 2, intermediate: 192) with { Heads = 3 });
        var facade = TinyModels.Create(seed: 23, TinyModels.Config(hidden: 32, layers: 2, intermediate: 64) with { Heads = 1 });
        var zero = Merge.Models(facade, targetA);
        var noisy = Merge.Models(facade, targetA, new MergeOptions { NoiseStd = MergeOptions.ReferenceNoiseStd });
        var permuted = Disguise.Models(zero, new DisguiseOptions { Permute = true, Seed = DisguiseSeed });
        BertClassifier Disguised(DisguiseOptions options) => Disguise.Models(zero, options with { Seed = DisguiseSeed }).Model;
        var normed = TinyModels.RandomizeNorms(Merge.Models(facade, targetA), seed: 24);
        var normedFilled = Disguise.Models(normed, new DisguiseOptions { Permute = true, LayerNormFill = 1, Seed = DisguiseSeed }).Model;
        var models = new Dictionary<string, BertClassifier>();
        foreach (var (name, model, kind) in new[]
                 {
                     ("target-a", targetA, "target"), ("target-b", targetB, "target"), ("merged-zero", zero, "merged"), ("merged-noisy", noisy, "merged"),
                     ("merged-permuted", permuted.Model, "merged"), ("merged-noise-1e-3", Disguised(new() { Noise = 1e-3 }), "merged"),
                     ("merged-noise-1e-2", Disguised(new() { Noise = 1e-2 }), "merged"),
                     ("merged-permuted-noise-1e-2", Disguised(new() { Permute = true, Noise = 1e-2 }), "merged"),
                     ("merged-normed", normed, "merged"), ("merged-normed-permuted-layernorm-fill", normedFilled, "merged"),
                 })
        {
            OnnxFile.Write(BertOnnxExporter.Gradient(model, TinyModels.Manifest(model, kind)), Path.Combine(folder, name + ".onnx"));
            OnnxFile.Write(BertOnnxExporter.Forward(model, TinyModels.Manifest(model, kind)), Path.Combine(folder, name + ".forward.onnx"));
            models[name] = model;
        }
        return (folder, permuted.Permutation!, models);
    });

    public static string PathOf(string name) => Path.Combine(Built.Value.Folder, name + ".onnx");
    /// <summary>The same model as a forward export (input_ids to logits), as someone else's classifier would arrive.</summary>
    public static string ForwardPathOf(string name) => Path.Combine(Built.Value.Folder, name + ".forward.onnx");
    public static string Folder => Built.Value.Folder;
    /// <summary>The TorchSharp model behind one of the files, for exports in other forms.</summary>
    public static BertClassifier ModelOf(string name) => Built.Value.Models[name];
    /// <summary>How merged-permuted relabels merged-zero's units (and merged-normed-permuted-layernorm-fill merged-normed's).</summary>
    public static UnitPermutation Permutation => Built.Value.Permutation;
    public static readonly string[] Clean = ["target-a", "target-b"];
    public static readonly string[] Merged = ["merged-zero", "merged-noisy", "merged-permuted"];
    /// <summary>Merges whose off-diagonal blocks hold noise well above the forensics' zero threshold.</summary>
    public static readonly string[] Noised = ["merged-noise-1e-3", "merged-noise-1e-2", "merged-permuted-noise-1e-2"];
}
