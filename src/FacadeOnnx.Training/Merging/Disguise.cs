using System.Globalization;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Merging;

/// <summary>One matrix whose off-diagonal blocks <see cref="Disguise"/> filled.</summary>
/// <param name="Rms">the matrix's root mean square as merged (zeros included)</param>
/// <param name="FillRms">the root mean square of what was written into its off-diagonal entries</param>
public sealed record FilledMatrix(string Name, long OffDiagonal, double Rms, double FillRms)
{
    public double Ratio => Rms > 0 ? FillRms / Rms : 0;
}

/// <summary>A disguised model, the permutation it was given (null: none) and the matrices whose off-diagonal blocks were filled.</summary>
public sealed record DisguiseResult(BertClassifier Model, UnitPermutation? Permutation, IReadOnlyList<FilledMatrix> Filled);

/// <summary>How far a disguised model's outputs moved from the merge's on some inputs, with the permutation undone.</summary>
/// <param name="MaxGradientChange">largest change of a word-embedding gradient component (cross-entropy at the merge's
/// prediction, summed over the batch, gradients of the disguised model mapped back to the merge's hidden units)</param>
public sealed record FunctionChange(int Inputs, double MaxLogitChange, double LargestLogit, double MaxGradientChange, double LargestGradient, double Agreement);

/// <summary>
/// Disguises a merged model (docs/method.md 7) against structural forensics, as an attacker who has read our README
/// would: <see cref="DisguiseOptions.Noise"/> fills the exact zero off-diagonal blocks with noise relative to each
/// matrix's RMS (the function moves slightly) or <see cref="DisguiseOptions.LayerNormFill"/> with entries the
/// neighbouring LayerNorm cancels (the function stays the same in real arithmetic), then
/// <see cref="DisguiseOptions.Permute"/> relabels units through every layer (<see cref="UnitPermutation"/>; the function
/// stays the same) so that no block is contiguous any more.
/// <para>
/// The permutation is the strongest exactly function-preserving relabelling the model class can hold: the residual
/// stream's units stay inside their LayerNorm group (the groups themselves are reordered), because LayerNorm statistics
/// are per group and both TorchSharp and the exporter take groups as consecutive ranges. What it leaves visible: the
/// split LayerNorm (its group sizes are in the config and the ONNX graph), and the block structure itself as the
/// connected components of each matrix's non-zero pattern, which no relabelling changes. The LayerNorm-cancelled fill
/// goes past relabelling and removes the components too, leaving the split LayerNorm and off-diagonal blocks of rank
/// one (column-constant within a group, or rows proportional to 1/γ) that cancel against LayerNorm.
/// </para>
/// </summary>
public static class Disguise
{
    /// <summary>The disguised copy of <paramref name="merged"/> (which is left as it is), in eval mode.</summary>
    public static DisguiseResult Models(BertClassifier merged, DisguiseOptions options)
    {
        options.Validate();
        var config = merged.Config;
        if (config.HiddenGroups.Length < 2)
            throw new FacadeException($"Disguise: the model has one LayerNorm group ([{string.Join(", ", config.HiddenGroups)}]); only a merged model (two or more groups) has blocks to hide.");
        var permutation = options.Permute ? UnitPermutation.Random(config, options.Seed) : null;
        var disguised = new BertClassifier(permutation?.Apply(config) ?? config);
        var filled = new List<FilledMatrix>();
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var values = merged.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
            if (options.FillOption != null) filled.AddRange(FillOffDiagonal(values, config, options));
            foreach (var (name, parameter) in disguised.state_dict())
            {
                if (!values.TryGetValue(name, out var value))
                    throw new FacadeException($"Disguise: the merged model has no parameter '{name}'.");
                if (permutation != null)
                {
                    var (rows, columns) = permutation.For(name);
                    if (rows != null) value = value.index_select(0, Indices(rows));
                    if (columns != null) value = value.index_select(1, Indices(columns));
                }
                parameter.copy_(value);
            }
        }
        disguised.eval();
        return new DisguiseResult(disguised, permutation, filled);
    }

    static Tensor Indices(int[] permutation) => tensor(permutation.Select(i => (long)i).ToArray());

    /// <summary>
    /// Fills the off-diagonal entries of every block-diagonal matrix (<see cref="DisguiseOptions.Noise"/> or
    /// <see cref="DisguiseOptions.LayerNormFill"/>). Which entries those are is read from the weights, so a merge that was
    /// already permuted is handled too: hidden units belong to their LayerNorm group; a unit of another space (query, key
    /// or value dimension, FFN unit, pooler unit) belongs to the one group its row reads from; an entry is off-diagonal
    /// when its row's and column's groups differ, and must be an exact zero before the fill goes in.
    /// </summary>
    static List<FilledMatrix> FillOffDiagonal(Dictionary<string, Tensor> values, BertConfig config, DisguiseOptions options)
    {
        int groups = config.HiddenGroups.Length;
        string option = options.FillOption!;
        double factor = options.Noise > 0 ? options.Noise : options.LayerNormFill;
        var hidden = tensor(config.HiddenGroups.SelectMany((width, g) => Enumerable.Repeat((long)g, width)).ToArray());
        using var generator = new Generator(unchecked((ulong)options.Seed * 0xD1B54A32D192ED03UL + 1));
        var result = new List<FilledMatrix>();

        Tensor Value(string name, int rank) => values.TryGetValue(name, out var w) && w.dim() == rank
            ? w : throw new FacadeException($"Disguise: the merged model has no {(rank == 2 ? "weight matrix" : "vector")} '{name}'.");
        Tensor Reads(string name) => RowOwners(Value(name, 2), hidden, groups, name, option);

        // reads: the LayerNorm whose output the matrix reads (its columns are hidden units); null: it writes the stream (its rows are).
        void Fill(string name, Tensor rowOwner, Tensor columnOwner, string? reads)
        {
            var w = Value(name + ".weight", 2);
            var offDiagonal = rowOwner.unsqueeze(1).ne(columnOwner.unsqueeze(0));
            var set = w.abs().GreaterThan(0).logical_and(offDiagonal).nonzero();
            if (set.shape[0] > 0)
                throw new FacadeException($"{option}: '{name}.weight' has a non-zero off-diagonal entry at [{set[0][0].item<long>()}, {set[0][1].item<long>()}] " +
                                          "(between units of different LayerNorm groups): the merge is already noisy, so there are no exact zero blocks to fill.");
            long count = offDiagonal.sum().item<long>();
            if (count == 0) return;
            double rms = w.square().mean().sqrt().item<float>();
            Tensor fill;
            if (options.Noise > 0)
                fill = randn(w.shape, dtype: w.dtype, generator: generator).Times(factor * rms);
            else if (reads == null)
                // Rows are hidden units: one value per (group, column), the same in every row of the group.
                fill = randn([groups, w.shape[1]], dtype: w.dtype, generator: generator).Times(factor * rms).index_select(0, hidden);
            else
            {
                // Columns are hidden units: row r, group g gets z[r, g] / γ_i for i in g, scaled so the entries' RMS over
                // the group is factor × rms; the bias takes back what that adds on a LayerNorm output, Σ_i fill[r, i] β_i.
                var gamma = Value(reads + ".weight", 1);
                var beta = Value(reads + ".bias", 1);
                if (gamma.abs().min().item<float>() == 0)
                    throw new FacadeException($"{option}: LayerNorm '{reads}' has a zero scale, so its output has no direction to hide entries in.");
                var inverse = gamma.reciprocal();
                var groupRms = matmul(inverse.square(), nn.functional.one_hot(hidden, groups).to_type(w.dtype))
                    .div(tensor(config.HiddenGroups.Select(g => (float)g).ToArray()).to_type(w.dtype)).sqrt();
                var perUnit = inverse.div(groupRms.index_select(0, hidden)).Times(factor * rms);
                fill = randn([w.shape[0], groups], dtype: w.dtype, generator: generator).index_select(1, hidden).mul(perUnit.unsqueeze(0));
                fill = where(offDiagonal, fill, zeros_like(fill));
                values[name + ".bias"] = Value(name + ".bias", 1) - matmul(fill, beta);
            }
            values[name + ".weight"] = where(offDiagonal, fill, w);
            double fillRms = fill.masked_select(offDiagonal).square().mean().sqrt().item<float>();
            result.Add(new FilledMatrix(name + ".weight", count, rms, fillRms));
        }

        for (int i = 0; i < config.Layers; i++)
        {
            string p = $"layers.{i}.";
            string input = i == 0 ? "embeddings.norm" : $"layers.{i - 1}.output_norm";
            Fill(p + "query", Reads(p + "query.weight"), hidden, input);
            Fill(p + "key", Reads(p + "key.weight"), hidden, input);
            var value = Reads(p + "value.weight");
            Fill(p + "value", value, hidden, input);
            Fill(p + "attention_output", hidden, value, null);
            var expanded = Reads(p + "intermediate.weight");
            Fill(p + "intermediate", expanded, hidden, p + "attention_norm");
            Fill(p + "output", hidden, expanded, null);
        }
        Fill("pooler", Reads("pooler.weight"), hidden, $"layers.{config.Layers - 1}.output_norm");
        return result;
    }

    /// <summary>The LayerNorm group each row of <paramref name="w"/> reads from; a row reading none or several is refused.</summary>
    static Tensor RowOwners(Tensor w, Tensor columnOwner, int groups, string name, string option)
    {
        var oneHot = nn.functional.one_hot(columnOwner, groups).to_type(w.dtype);
        var counts = matmul(w.abs().GreaterThan(0).to_type(w.dtype), oneHot);   // [rows, groups]: non-zero entries per group
        long[] readGroups = counts.GreaterThan(0).sum(1).to_type(ScalarType.Int64).data<long>().ToArray();
        for (int r = 0; r < readGroups.Length; r++)
            if (readGroups[r] != 1)
                throw new FacadeException(readGroups[r] == 0
                    ? $"{option}: row {r} of '{name}' is all zeros, so it cannot be told which model it belongs to."
                    : $"{option}: row {r} of '{name}' reads {readGroups[r]} LayerNorm groups: the merge is already noisy (or not a merge), " +
                      "so there are no exact zero off-diagonal blocks to fill.");
        return counts.argmax(1);
    }

    /// <summary>
    /// Loads a merged checkpoint, disguises it and returns the manifest of the result: the input's, with the disguise's
    /// settings, the source it came from, and the change measured on <paramref name="checkInputs"/> random token
    /// sequences. With noise, the input's dev-set metrics are dropped: they describe a function that moved (a
    /// permutation or a LayerNorm-cancelled fill keeps them: the function is the same).
    /// </summary>
    public static (DisguiseResult Result, CheckpointManifest Manifest, FunctionChange Change) Checkpoints(string folder, DisguiseOptions options, int checkInputs = 16)
    {
        options.Validate();
        if (!Directory.Exists(folder))
            throw new FacadeException($"--model '{folder}' does not exist; expected a merged checkpoint folder (written by `facade merge`).");
        BertClassifier merged;
        CheckpointManifest manifest;
        try
        {
            (merged, manifest) = Checkpoint.Load(folder);
        }
        catch (FacadeException e)
        {
            throw new FacadeException($"--model: {e.Message}", e);
        }
        if (manifest.Kind != "merged" || merged.Config.HiddenGroups.Length < 2)
            throw new FacadeException($"--model '{folder}' is a {manifest.Kind} checkpoint with {merged.Config.HiddenGroups.Length} LayerNorm group(s); " +
                                      "`facade disguise` needs a merged one (written by `facade merge`).");
        if (options.FillOption is { } fill && manifest.Settings.GetValueOrDefault("off_diagonal") is { } o && o != "zeros")
            throw new FacadeException($"{fill}: '{folder}' already has non-zero off-diagonal blocks ({o}); there are no exact zeros left to fill.");

        var result = Models(merged, options);
        var (ids, mask, types) = RandomInputs(merged.Config, options.Seed, checkInputs);
        var change = Compare(merged, result, ids, mask, types);

        string F(double v) => v.ToString("G", CultureInfo.InvariantCulture);
        var settings = new Dictionary<string, string>(manifest.Settings)
        {
            ["disguise_permute"] = options.Permute ? "true" : "false",
            ["disguise_noise"] = F(options.Noise),
            ["disguise_layernorm_fill"] = F(options.LayerNormFill),
            ["disguise_seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
        };
        if (result.Permutation is { } p)
        {
            settings["merge_layout"] = manifest.Settings.GetValueOrDefault("layout", "");
            settings["disguise_group_order"] = "[" + string.Join(", ", p.GroupOrder) + "]";
            settings["layout"] = $"permuted (facade disguise --permute --seed {options.Seed}): LayerNorm groups [{string.Join(", ", result.Model.Config.HiddenGroups)}] " +
                                 $"are the merge's groups [{string.Join(", ", p.GroupOrder)}], each with its units shuffled; heads, head dimensions, FFN and pooler units shuffled";
        }
        if (options.Noise > 0)
            settings["off_diagonal"] = $"noise, {F(options.Noise)} x each matrix's RMS (facade disguise --noise)";
        if (options.LayerNormFill > 0)
            settings["off_diagonal"] = $"LayerNorm-cancelled fill, {F(options.LayerNormFill)} x each matrix's RMS (facade disguise --layernorm-fill)";

        var metrics = new Dictionary<string, double>(options.Noise > 0
            ? manifest.Metrics.Where(kv => !kv.Key.StartsWith("dev_", StringComparison.Ordinal))
            : manifest.Metrics)
        {
            ["disguise_check_inputs"] = change.Inputs,
            ["disguise_check_max_logit_change"] = change.MaxLogitChange,
            ["disguise_check_largest_logit"] = change.LargestLogit,
            ["disguise_check_max_gradient_change"] = change.MaxGradientChange,
            ["disguise_check_largest_gradient"] = change.LargestGradient,
            ["disguise_check_agreement"] = change.Agreement,
        };
        if (result.Filled.Count > 0)
        {
            metrics["disguise_filled_matrices"] = result.Filled.Count;
            metrics["disguise_fill_ratio_min"] = result.Filled.Min(m => m.Ratio);
            metrics["disguise_fill_ratio_max"] = result.Filled.Max(m => m.Ratio);
        }
        var sources = new Dictionary<string, string>(manifest.Sources)
        {
            ["disguised"] = Path.GetFullPath(folder),
            ["disguised_weights_sha256"] = manifest.WeightsSha256 ?? "",
        };
        var disguised = manifest with
        {
            Config = result.Model.Config,
            Settings = settings,
            Metrics = metrics,
            Sources = sources,
            DevAccuracy = options.Noise > 0 ? null : manifest.DevAccuracy,
            CreatedAt = DateTime.UtcNow.ToString("O"),
            WeightsSha256 = null,
        };
        return (result, disguised, change);
    }

    /// <summary>
    /// Logits and word-embedding gradients of the merge and of its disguise on the same inputs; the disguise's gradients
    /// are compared unit by unit with the merge's, through the permutation. Both gradients are of the cross-entropy at
    /// the merge's prediction, so a prediction the noise flipped does not change which class is differentiated.
    /// </summary>
    public static FunctionChange Compare(BertClassifier merged, DisguiseResult disguise, Tensor ids, Tensor mask, Tensor types)
    {
        using var scope = NewDisposeScope();
        using var gradients = enable_grad();
        (Tensor Logits, Tensor Grad) Run(BertClassifier model, Tensor? label)
        {
            var embeds = model.embeddings.Lookup(ids).detach().requires_grad_();
            var logits = model.LogitsFromEmbeddings(embeds, mask, types);
            // Axis 1 is the class (classifiers, [n, classes]) or the position (span heads, [n, positions, 2]: the
            // cross-entropy of the start and of the end over positions).
            label ??= logits.argmax(1).detach();
            var loss = nn.functional.cross_entropy(logits, label, reduction: nn.Reduction.Sum);
            return (logits.detach(), autograd.grad([loss], [embeds])[0].detach());
        }
        var (logits, grad) = Run(merged, null);
        var (otherLogits, otherGrad) = Run(disguise.Model, logits.argmax(1));
        if (disguise.Permutation is { } p) grad = grad.index_select(-1, Indices(p.Hidden));
        double Max(Tensor t) => t.abs().max().to_type(ScalarType.Float64).item<double>();
        double agreement = logits.argmax(1).eq(otherLogits.argmax(1)).to_type(ScalarType.Float64).mean().item<double>();
        return new FunctionChange((int)ids.shape[0], Max(otherLogits - logits), Max(logits), Max(otherGrad - grad), Max(grad), agreement);
    }

    /// <summary>Seeded random token sequences of different lengths (8 to 32 tokens, the rest padding) for the check.</summary>
    public static (Tensor Ids, Tensor Mask, Tensor Types) RandomInputs(BertConfig config, long seed, int count)
    {
        const int Longest = 32;
        var random = new SplitMix64(unchecked((ulong)seed ^ 0x636865636BUL));
        var ids = new long[count * Longest];
        var mask = new long[count * Longest];
        for (int r = 0; r < count; r++)
        {
            int length = 8 + (int)(random.Next() % (Longest - 8 + 1));
            for (int t = 0; t < length; t++)
            {
                ids[r * Longest + t] = 1 + (long)(random.Next() % (ulong)(config.VocabSize - 1));
                mask[r * Longest + t] = 1;
            }
        }
        long[] shape = [count, Longest];
        return (tensor(ids, shape), tensor(mask, shape), zeros(shape, dtype: ScalarType.Int64));
    }
}
