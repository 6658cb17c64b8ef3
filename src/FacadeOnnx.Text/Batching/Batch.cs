namespace FacadeOnnx.Text;

/// <summary>
/// Encoded inputs stacked for a BERT model: int64 tensors [Size, SequenceLength] in row-major order, each row padded
/// with the pad id (0 for BERT vocabularies) to the longest row; the attention mask is 1 for real tokens and 0 for
/// padding, and padding has type id 0. <see cref="Lengths"/> holds each row's real length.
/// </summary>
public sealed record Batch(long[] InputIds, long[] AttentionMask, long[] TokenTypeIds, int Size, int SequenceLength, int[] Lengths)
{
    /// <summary>Stacks <paramref name="inputs"/> in order (at least one), padding with <paramref name="padId"/>.</summary>
    public static Batch FromInputs(IReadOnlyList<TokenizedInput> inputs, int padId = 0)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) throw new ArgumentException("A batch needs at least one input.", nameof(inputs));
        int size = inputs.Count;
        int sequence = inputs.Max(i => i.Length);
        var ids = new long[size * sequence];
        var mask = new long[size * sequence];
        var types = new long[size * sequence];
        var lengths = new int[size];
        if (padId != 0) Array.Fill(ids, padId);
        for (int row = 0; row < size; row++)
        {
            TokenizedInput input = inputs[row];
            int offset = row * sequence;
            lengths[row] = input.Length;
            for (int t = 0; t < input.Length; t++)
            {
                ids[offset + t] = input.Ids[t];
                mask[offset + t] = 1;
                types[offset + t] = input.TypeIds[t];
            }
        }
        return new Batch(ids, mask, types, size, sequence, lengths);
    }

    /// <summary>The flat index of (row, position).</summary>
    public int IndexOf(int row, int position) => row * SequenceLength + position;
}
