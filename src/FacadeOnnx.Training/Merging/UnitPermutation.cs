using FacadeOnnx.Training.Model;

namespace FacadeOnnx.Training.Merging;

/// <summary>
/// A relabelling of a BERT classifier's units that leaves its function unchanged. Each array maps a new index to the
/// old unit it holds: new unit j is old unit <c>perm[j]</c> (so a tensor is permuted by <c>index_select(axis, perm)</c>).
/// <list type="bullet">
/// <item><see cref="Hidden"/>: the residual stream, one permutation for every layer (embedding columns, every LayerNorm's
/// scale and shift, the inputs of every matrix reading the stream and the outputs of every matrix writing it). LayerNorm
/// normalizes each of <see cref="BertConfig.HiddenGroups"/> separately and both TorchSharp and the exporter take the
/// groups as consecutive ranges, so units move only inside their group, and the groups move as wholes
/// (<see cref="GroupOrder"/>): a permutation mixing the groups' units would need a per-unit group assignment that neither
/// reads.</item>
/// <item><see cref="QueryKey"/> and <see cref="Value"/> per layer: heads move as wholes, in the same order for query, key
/// and value (a head's attention weights apply to its own values); inside a head, query and key dimensions share one
/// permutation (their dot product is unchanged), value dimensions another, which the attention output's inputs follow.</item>
/// <item><see cref="Intermediate"/> per layer: FFN units, freely (GELU is elementwise): FFN-in rows, FFN-out columns.</item>
/// <item><see cref="Pooler"/>: the head's tanh units, freely: pooler rows, classifier columns (a span head's classifier
/// reads the residual stream instead, <see cref="ClassifierReadsHidden"/>, so its columns follow <see cref="Hidden"/>).</item>
/// </list>
/// </summary>
public sealed record UnitPermutation(int[] Hidden, int[] GroupOrder, int[][] QueryKey, int[][] Value, int[][] Intermediate, int[] Pooler)
{
    /// <summary>Span (QA) heads: start and end logits are read from every position's last hidden state.</summary>
    public bool ClassifierReadsHidden { get; init; }

    /// <summary>A seeded random permutation of every kind above (<see cref="SplitMix64"/>, so it can be regenerated).</summary>
    public static UnitPermutation Random(BertConfig config, long seed)
    {
        var random = new SplitMix64(unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ 0x6469736775697365UL));
        int[] Shuffle(int n) => SplitMix64.Permutation(n, random.Next());

        int[] groups = config.HiddenGroups;
        var offsets = new int[groups.Length];
        for (int g = 1; g < groups.Length; g++) offsets[g] = offsets[g - 1] + groups[g - 1];
        int[] groupOrder = Shuffle(groups.Length);
        int[] hidden = groupOrder.SelectMany(g => Shuffle(groups[g]).Select(u => offsets[g] + u)).ToArray();

        int headSize = config.HeadSize;
        int[] WithinHeads(int[] headOrder) => headOrder.SelectMany(h => Shuffle(headSize).Select(d => h * headSize + d)).ToArray();
        var queryKey = new int[config.Layers][];
        var value = new int[config.Layers][];
        var intermediate = new int[config.Layers][];
        for (int i = 0; i < config.Layers; i++)
        {
            int[] headOrder = Shuffle(config.Heads);
            queryKey[i] = WithinHeads(headOrder);
            value[i] = WithinHeads(headOrder);
            intermediate[i] = Shuffle(config.Intermediate);
        }
        return new UnitPermutation(hidden, groupOrder, queryKey, value, intermediate, Shuffle(config.Hidden)) { ClassifierReadsHidden = config.Head == ModelHead.Span };
    }

    /// <summary>The permuted model's config: the LayerNorm groups in their new order.</summary>
    public BertConfig Apply(BertConfig config) => config with { HiddenGroups = GroupOrder.Select(g => config.HiddenGroups[g]).ToArray() };

    /// <summary>Which permutation applies to a parameter's rows (its first axis; a vector's only axis) and to its columns.</summary>
    public (int[]? Rows, int[]? Columns) For(string name)
    {
        switch (name)
        {
            case "embeddings.word.weight" or "embeddings.position.weight" or "embeddings.token_type.weight": return (null, Hidden);
            case "pooler.weight": return (Pooler, Hidden);
            case "pooler.bias": return (Pooler, null);
            // The scaling merge's factor layer reads what the classifier reads (docs/method.md §7.7).
            case "classifier.weight" or "logit_scale.weight": return (null, ClassifierReadsHidden ? Hidden : Pooler);
            case "classifier.bias" or "logit_scale.bias": return (null, null);
        }
        if (name.EndsWith("norm.weight", StringComparison.Ordinal) || name.EndsWith("norm.bias", StringComparison.Ordinal)) return (Hidden, null);
        var parts = name.Split('.');
        if (parts is ["layers", var index, var module, "weight" or "bias"] && int.TryParse(index, out int i) && i >= 0 && i < QueryKey.Length)
        {
            bool weight = parts[3] == "weight";
            (int[] Rows, int[] Columns)? rule = module switch
            {
                "query" or "key" => (QueryKey[i], Hidden),
                "value" => (Value[i], Hidden),
                "attention_output" => (Hidden, Value[i]),
                "intermediate" => (Intermediate[i], Hidden),
                "output" => (Hidden, Intermediate[i]),
                _ => null,
            };
            if (rule is var (rows, columns)) return (rows, weight ? columns : null);
        }
        throw new FacadeException($"Disguise: no permutation rule for parameter '{name}'.");
    }
}
