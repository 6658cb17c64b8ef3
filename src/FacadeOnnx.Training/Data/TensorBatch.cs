using FacadeOnnx.Text;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Data;

/// <summary>A padded batch as libtorch tensors ([batch, sequence] int64), with its inputs and labels.</summary>
public sealed class TensorBatch : IDisposable
{
    public required Tensor InputIds { get; init; }
    public required Tensor AttentionMask { get; init; }
    public required Tensor TokenTypeIds { get; init; }
    public required Tensor Labels { get; init; }
    /// <summary>The answers' last pieces [batch] (span data only; <see cref="Labels"/> then holds their first pieces).</summary>
    public Tensor? SpanEnds { get; init; }
    public required IReadOnlyList<TokenizedInput> Inputs { get; init; }
    public required Batch Padded { get; init; }
    public int Size => Inputs.Count;

    public static TensorBatch Create(IReadOnlyList<TokenizedInput> inputs, IReadOnlyList<int> labels, IReadOnlyList<int>? spanEnds = null)
    {
        var batch = Batch.FromInputs(inputs);
        long[] shape = [batch.Size, batch.SequenceLength];
        return new TensorBatch
        {
            InputIds = tensor(batch.InputIds, shape),
            AttentionMask = tensor(batch.AttentionMask, shape),
            TokenTypeIds = tensor(batch.TokenTypeIds, shape),
            Labels = tensor(labels.Select(l => (long)l).ToArray(), [batch.Size]),
            SpanEnds = spanEnds == null ? null : tensor(spanEnds.Select(l => (long)l).ToArray(), [batch.Size]),
            Inputs = inputs,
            Padded = batch,
        };
    }

    public static TensorBatch Create(EncodedDataset data, IReadOnlyList<int> indices) =>
        Create(indices.Select(i => data.Inputs[i]).ToArray(), indices.Select(i => data.Labels[i]).ToArray(),
            data.SpanEnds == null ? null : indices.Select(i => data.SpanEnds[i]).ToArray());

    /// <summary>A float mask [batch, sequence] with 1 at the given positions of each row.</summary>
    public Tensor PositionMask(Func<TokenizedInput, IEnumerable<int>> positions)
    {
        var mask = new float[Padded.Size * Padded.SequenceLength];
        for (int row = 0; row < Size; row++)
            foreach (int p in positions(Inputs[row]))
                mask[row * Padded.SequenceLength + p] = 1f;
        return tensor(mask, [Padded.Size, Padded.SequenceLength]);
    }

    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        TokenTypeIds.Dispose();
        Labels.Dispose();
        SpanEnds?.Dispose();
    }
}
