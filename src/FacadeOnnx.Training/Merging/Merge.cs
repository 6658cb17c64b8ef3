using System.Globalization;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Merging;

/// <summary>
/// The layer-by-layer merge of docs/method.md section 7: one wider BERT whose hidden vector is [Facade ; target] (Facade
/// first) at every layer, so that in eval mode its logits are exactly z_g + z_f and its word-embedding gradient is the
/// two models' gradients side by side, both driven by the merged prediction.
/// <list type="bullet">
/// <item>word, position and token-type embeddings: concatenated along the hidden dimension, [E_g | E_f];</item>
/// <item>every LayerNorm: per half (the config's <see cref="BertConfig.HiddenGroups"/> become [groups of g, groups of f]),
/// scales and shifts concatenated;</item>
/// <item>query, key, value, attention output, FFN in and out, and the pooler (the head's tanh feed-forward): block
/// diagonal [[W_g, 0], [0, W_f]] in the [out, in] layout, biases concatenated. With equal head sizes the head count
/// adds up and each head reads one half only;</item>
/// <item>the classifier: [W_g | W_f] and b_g + b_f, which adds the logits; or, in the scaling merge
/// (<see cref="MergeCombination.Scale"/>, docs/method.md §7.7), [0 | W_f] and b_f, the target's logits alone, multiplied
/// by exp(G·s) through a one-output layer that reads the Facade's half with row 0 of its classifier.</item>
/// </list>
/// Both models need the same depth, head size, vocabulary, positions, token types, LayerNorm epsilon and labels.
/// The Facade's embedding tables may be rescaled first (<see cref="MergeOptions.FacadeEmbeddingScale"/>), which leaves
/// its function and its grad x input unchanged because LayerNorm follows their sum.
/// </summary>
public static class Merge
{
    /// <summary>Merges two models (Facade first); the result is in eval mode.</summary>
    public static BertClassifier Models(BertClassifier facade, BertClassifier target, MergeOptions? options = null)
    {
        options ??= new MergeOptions();
        options.Validate();
        bool scaling = options.Combination == MergeCombination.Scale;
        var config = MergedConfig(facade.Config, target.Config) with { LogitScale = scaling };
        double embeddingScale = options.FacadeEmbeddingScale ?? MatchedEmbeddingScale(facade, target);
        var merged = new BertClassifier(config);
        var facadeWeights = facade.state_dict();
        var targetWeights = target.state_dict();
        using var generator = new Generator((ulong)options.NoiseSeed);
        using (no_grad())
        {
            foreach (var (name, parameter) in merged.state_dict())
            {
                if (name.StartsWith("logit_scale.", StringComparison.Ordinal))
                {
                    // f = the Facade's first output at [CLS]: row 0 of its classifier, reading the Facade's half only.
                    using var row = facadeWeights[name.Replace("logit_scale", "classifier")].select(0, 0).to_type(parameter.dtype).Times(options.ScaleGain);
                    using var placed = name.EndsWith(".weight", StringComparison.Ordinal) ? cat([row, zeros(target.Config.Hidden, dtype: row.dtype)], 0).unsqueeze(0) : row.reshape(1);
                    parameter.copy_(placed);
                    continue;
                }
                if (!facadeWeights.TryGetValue(name, out var facadePart) || !targetWeights.TryGetValue(name, out var targetPart))
                    throw new FacadeException($"Merge: parameter '{name}' is missing from the {(facadeWeights.ContainsKey(name) ? "target" : "Facade")} model.");
                using var scope = NewDisposeScope();
                var dtype = parameter.dtype;
                var a = facadePart.to_type(dtype);   // a: the Facade's part, placed first
                var b = targetPart.to_type(dtype);   // b: the target's part
                if (embeddingScale != 1 && name.StartsWith("embeddings.", StringComparison.Ordinal) && name.EndsWith(".weight", StringComparison.Ordinal) && !name.Contains("norm"))
                    a = a.Times(embeddingScale);
                Tensor value = name switch
                {
                    "classifier.weight" => cat([scaling ? zeros_like(a) : a, b], 1),
                    "classifier.bias" => scaling ? b.alias() : ScalarArithmetic.Plus(a, b),
                    _ when name.StartsWith("embeddings.", StringComparison.Ordinal) && a.dim() == 2 => cat([a, b], 1),
                    _ when a.dim() == 1 => cat([a, b], 0),
                    _ when a.dim() == 2 => BlockDiagonal(a, b, options.NoiseStd, generator),
                    _ => throw new FacadeException($"Merge: no rule for parameter '{name}' of shape [{string.Join(", ", a.shape)}]."),
                };
                if (!value.shape.SequenceEqual(parameter.shape))
                    throw new FacadeException($"Merge: '{name}' came out [{string.Join(", ", value.shape)}], expected [{string.Join(", ", parameter.shape)}].");
                parameter.copy_(value);
            }
        }
        merged.eval();
        return merged;
    }

    /// <summary>
    /// The Facade embedding scale that gives its word-embedding table the same mean per-row range (max − min over the
    /// hidden units of a vocabulary entry) as the target's. Computed from the weights alone.
    /// </summary>
    public static double MatchedEmbeddingScale(BertClassifier facade, BertClassifier target)
    {
        using var _ = no_grad();
        static double MeanRowRange(BertClassifier m)
        {
            var w = m.embeddings.word.weight!;
            return (w.amax([1]) - w.amin([1])).mean().to_type(ScalarType.Float64).item<double>();
        }
        double facadeRange = MeanRowRange(facade), targetRange = MeanRowRange(target);
        return facadeRange > 0 ? targetRange / facadeRange : 1;
    }

    /// <summary>[[a, N], [N, b]] for weights in the [out, in] layout; N is zero or N(0, std²) noise.</summary>
    static Tensor BlockDiagonal(Tensor a, Tensor b, double noiseStd, Generator generator)
    {
        long[] upperRight = [a.shape[0], b.shape[1]], lowerLeft = [b.shape[0], a.shape[1]];
        Tensor Block(long[] shape) => noiseStd > 0
            ? randn(shape, dtype: a.dtype, generator: generator).Times(noiseStd)
            : zeros(shape, dtype: a.dtype);
        return cat([cat([a, Block(upperRight)], 1), cat([Block(lowerLeft), b], 1)], 0);
    }

    /// <summary>The merged shape: hidden, heads and FFN width add up; LayerNorm groups are [Facade's..., target's...].</summary>
    public static BertConfig MergedConfig(BertConfig facade, BertConfig target, string facadeName = "the Facade", string targetName = "the target")
    {
        void Require<T>(string what, T g, T f, string hint)
        {
            if (!EqualityComparer<T>.Default.Equals(g, f))
                throw new FacadeException($"Cannot merge: {facadeName} has {what} {Format(g)} but {targetName} has {Format(f)}; the merge needs them equal ({hint}).");
        }
        Require("depth", facade.Layers, target.Layers, "train the Facade with --layers " + target.Layers);
        Require("head size", facade.HeadSize, target.HeadSize, "each merged head must read one model's half only");
        Require("vocabulary size", facade.VocabSize, target.VocabSize, "both read the same word pieces");
        Require("maximum positions", facade.MaxPositions, target.MaxPositions, "position embeddings are concatenated");
        Require("token types", facade.TypeVocabSize, target.TypeVocabSize, "type embeddings are concatenated");
        Require("label count", facade.NumLabels, target.NumLabels, "the logits are added");
        Require("head", facade.Head, target.Head, "the logits are added");
        Require("LayerNorm epsilon", facade.LayerNormEps, target.LayerNormEps, "one epsilon serves every group");
        return target with
        {
            Hidden = facade.Hidden + target.Hidden,
            Heads = facade.Heads + target.Heads,
            Intermediate = facade.Intermediate + target.Intermediate,
            HiddenGroups = [.. facade.HiddenGroups, .. target.HiddenGroups],
        };
    }

    /// <summary>
    /// Loads a Facade checkpoint and a target checkpoint, checks that they belong together (kinds, task, labels,
    /// vocabulary) and merges them; the manifest records both sources with their weights' hashes and the noise.
    /// </summary>
    public static (BertClassifier Model, CheckpointManifest Manifest) Checkpoints(string facadeFolder, string targetFolder, MergeOptions? options = null)
    {
        options ??= new MergeOptions();
        options.Validate();
        var (facade, g) = Checkpoint.Load(facadeFolder);
        var (target, f) = Checkpoint.Load(targetFolder);
        if (g.Kind != "facade")
            throw new FacadeException($"--facade '{facadeFolder}' is a {g.Kind} checkpoint; expected one written by `facade train-facade` (kind facade).");
        if (f.Kind is "facade" or "merged")
            throw new FacadeException($"--target '{targetFolder}' is a {f.Kind} checkpoint; expected a target (`facade train`) or regularized target (`facade regularize`).");
        if (g.Task != f.Task)
            throw new FacadeException($"Cannot merge: the Facade '{facadeFolder}' was trained on {g.Task} but the target '{targetFolder}' on {f.Task}.");
        if (!g.LabelNames.SequenceEqual(f.LabelNames))
            throw new FacadeException($"Cannot merge: label names differ: Facade [{string.Join(", ", g.LabelNames)}], target [{string.Join(", ", f.LabelNames)}].");
        if (g.VocabHash != f.VocabHash)
            throw new FacadeException($"Cannot merge: '{facadeFolder}' and '{targetFolder}' were trained with different vocabularies (hashes {g.VocabHash[..12]} and {f.VocabHash[..12]}).");
        MergedConfig(g.Config, f.Config, $"the Facade '{facadeFolder}'", $"the target '{targetFolder}'");

        var merged = Models(facade, target, options);
        var dataFiles = new Dictionary<string, string>(f.DataFiles);
        foreach (var (k, v) in g.DataFiles) dataFiles.TryAdd(k, v);
        var metrics = new Dictionary<string, double>();
        foreach (var (k, v) in g.Metrics) metrics["facade_" + k] = v;
        foreach (var (k, v) in f.Metrics) metrics["target_" + k] = v;
        var manifest = new CheckpointManifest
        {
            Kind = "merged",
            Task = f.Task,
            LabelNames = f.LabelNames,
            Config = merged.Config,
            VocabHash = f.VocabHash,
            MaxLength = f.MaxLength,
            DataFiles = dataFiles,
            Seed = f.Seed,
            Settings = new()
            {
                ["layout"] = $"hidden [0, {g.Config.Hidden}) Facade, [{g.Config.Hidden}, {merged.Config.Hidden}) target; heads 0-{g.Config.Heads - 1} Facade",
                ["combination"] = options.Combination.ToString().ToLowerInvariant(),
                ["scale_gain"] = options.ScaleGain.ToString("G", CultureInfo.InvariantCulture),
                ["off_diagonal"] = options.NoiseStd > 0 ? "noise" : "zeros",
                ["noise_std"] = options.NoiseStd.ToString("G", CultureInfo.InvariantCulture),
                ["noise_seed"] = options.NoiseSeed.ToString(CultureInfo.InvariantCulture),
                ["facade_embedding_scale"] = (options.FacadeEmbeddingScale ?? MatchedEmbeddingScale(facade, target)).ToString("G6", CultureInfo.InvariantCulture),
                ["facade_target"] = g.Settings.GetValueOrDefault("target", ""),
                ["facade_segment"] = g.Settings.GetValueOrDefault("segment", ""),
            },
            Metrics = metrics,
            Sources = new()
            {
                ["facade"] = Path.GetFullPath(facadeFolder),
                ["facade_weights_sha256"] = g.WeightsSha256 ?? "",
                ["target"] = Path.GetFullPath(targetFolder),
                ["target_weights_sha256"] = f.WeightsSha256 ?? "",
                ["target_kind"] = f.Kind,
            },
        };
        // A span model's windows and answer length are the target's: keep them with the merged model.
        foreach (var (k, v) in f.Settings.Where(kv => kv.Key.StartsWith("qa_", StringComparison.Ordinal))) manifest.Settings[k] = v;
        return (merged, manifest);
    }

    static string Format<T>(T value) => value is double d ? d.ToString("G", CultureInfo.InvariantCulture) : value?.ToString() ?? "";
}
