namespace FacadeOnnx.Text;

/// <summary>Splits work into batches: consecutive chunks, or length buckets (see <see cref="LengthBuckets"/>).</summary>
public static class Batches
{
    /// <summary>Consecutive chunks of at most <paramref name="batchSize"/> items, in order; the last may be shorter.</summary>
    public static IReadOnlyList<IReadOnlyList<T>> Split<T>(IReadOnlyList<T> items, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var batches = new List<IReadOnlyList<T>>((items.Count + batchSize - 1) / batchSize);
        for (int start = 0; start < items.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, items.Count - start);
            var chunk = new T[count];
            for (int i = 0; i < count; i++) chunk[i] = items[start + i];
            batches.Add(chunk);
        }
        return batches;
    }

    /// <summary>Encodes and stacks inputs in consecutive batches of at most <paramref name="batchSize"/>.</summary>
    public static IReadOnlyList<Batch> Stack(IReadOnlyList<TokenizedInput> inputs, int batchSize, int padId = 0) =>
        Split(inputs, batchSize).Select(chunk => Batch.FromInputs(chunk, padId)).ToArray();
}
