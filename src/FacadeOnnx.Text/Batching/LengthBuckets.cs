namespace FacadeOnnx.Text;

/// <summary>
/// Groups items of similar length into batches so that little padding is computed: indices are sorted by length
/// (stable: equal lengths keep their order), then cut into groups of at most the batch size. Each group keeps the
/// original indices, so results computed per group can be put back in the original order with <see cref="Restore{T}"/>.
/// </summary>
public sealed class LengthBuckets
{
    LengthBuckets(int[][] groups, int count)
    {
        Groups = groups;
        Count = count;
    }

    /// <summary>Original indices of each group, shortest groups first.</summary>
    public IReadOnlyList<int[]> Groups { get; }

    /// <summary>The number of items grouped.</summary>
    public int Count { get; }

    public static LengthBuckets Create(IReadOnlyList<int> lengths, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        int[] order = Enumerable.Range(0, lengths.Count).OrderBy(i => lengths[i]).ThenBy(i => i).ToArray();
        int[][] groups = Batches.Split(order, batchSize).Select(g => g.ToArray()).ToArray();
        return new LengthBuckets(groups, lengths.Count);
    }

    public static LengthBuckets Create(IReadOnlyList<TokenizedInput> inputs, int batchSize) =>
        Create(inputs.Select(i => i.Length).ToArray(), batchSize);

    /// <summary>The items of group <paramref name="group"/>, in the group's order.</summary>
    public T[] Select<T>(IReadOnlyList<T> items, int group)
    {
        if (items.Count != Count) throw new ArgumentException($"Expected {Count} items, got {items.Count}.", nameof(items));
        int[] indices = Groups[group];
        var selected = new T[indices.Length];
        for (int i = 0; i < indices.Length; i++) selected[i] = items[indices[i]];
        return selected;
    }

    /// <summary>Puts per-group results (one list per group, in group order) back in the original order.</summary>
    public T[] Restore<T>(IReadOnlyList<IReadOnlyList<T>> perGroup)
    {
        ArgumentNullException.ThrowIfNull(perGroup);
        if (perGroup.Count != Groups.Count)
            throw new ArgumentException($"Expected results for {Groups.Count} groups, got {perGroup.Count}.", nameof(perGroup));
        var restored = new T[Count];
        for (int g = 0; g < Groups.Count; g++)
        {
            int[] indices = Groups[g];
            if (perGroup[g].Count != indices.Length)
                throw new ArgumentException($"Group {g} has {indices.Length} items but {perGroup[g].Count} results.", nameof(perGroup));
            for (int i = 0; i < indices.Length; i++) restored[indices[i]] = perGroup[g][i];
        }
        return restored;
    }
}
