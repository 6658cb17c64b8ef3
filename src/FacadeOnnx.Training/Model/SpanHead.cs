using FacadeOnnx.Text;
using FacadeOnnx.Training.Data;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Model;

/// <summary>
/// The span head's outputs as every QA computation reads them (docs/method.md §2.2): start and end logits with every
/// position outside the context pushed to <see cref="BertClassifier.MaskValue"/>, so softmax and the best-span search
/// only see context pieces, and the span loss (CE(start) + CE(end)) / 2.
/// </summary>
public static class SpanHead
{
    /// <summary>1 at the context pieces of each row ([CLS], the question, both [SEP]s and padding are 0), [batch, sequence].</summary>
    public static Tensor ContextMask(TensorBatch batch) =>
        batch.PositionMask(input => Enumerable.Range(0, input.Length).Where(i => input.InSegment(i, Segment.Second)));

    /// <summary>Start and end logits [batch, sequence] of span-head output [batch, sequence, 2], masked to the context.</summary>
    public static (Tensor Start, Tensor End) Masked(Tensor logits, Tensor contextMask)
    {
        var outside = contextMask.to_type(logits.dtype).SubtractedFrom(1).Times(BertClassifier.MaskValue);
        return (logits.select(2, 0) + outside, logits.select(2, 1) + outside);
    }

    /// <summary>(CE(start) + CE(end)) / 2, batch mean, at the given start and end positions.</summary>
    public static Tensor Loss(Tensor start, Tensor end, Tensor startPositions, Tensor endPositions) =>
        (nn.functional.cross_entropy(start, startPositions) + nn.functional.cross_entropy(end, endPositions)).Over(2);
}
