using FacadeOnnx.Text;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Evaluation;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Model;

/// <summary>
/// What a loss or gradient is taken at, per row of a batch: a class (<see cref="Labels"/>), or for a span head a span,
/// <see cref="Labels"/> its start and <see cref="SpanEnds"/> its end, with the context mask that confines both softmaxes
/// (docs/method.md §2.2, §8).
/// </summary>
public sealed record HeadTarget(Tensor Labels, Tensor? SpanEnds, Tensor? ContextMask)
{
    /// <summary>The spans as decoded (span heads only).</summary>
    public SpanPrediction[]? Spans { get; init; }

    /// <summary>Cross-entropy at the target (span heads: (CE(start) + CE(end)) / 2), per row reduced as asked.</summary>
    public Tensor Loss(Tensor logits, nn.Reduction reduction)
    {
        if (SpanEnds is null) return nn.functional.cross_entropy(logits, Labels, reduction: reduction);
        var (start, end) = SpanHead.Masked(logits, ContextMask!);
        return (nn.functional.cross_entropy(start, Labels, reduction: reduction) + nn.functional.cross_entropy(end, SpanEnds, reduction: reduction)).Over(2);
    }

    /// <summary>
    /// Span heads: the hinge max(0, m − (S(ŝ) − max S(s ≠ ŝ))) per row, batch mean, where S(s) = start + end logit of span
    /// s over the valid spans (context pieces, end ≥ start, at most <paramref name="maxAnswerLength"/> pieces) and ŝ this
    /// target's span. Zero wherever ŝ already wins by <paramref name="margin"/>, so unlike a cross-entropy it trains
    /// nothing but the rows whose best span is about to change (docs/method.md §7.6, span models).
    /// </summary>
    public Tensor MarginLoss(Tensor logits, double margin, int maxAnswerLength)
    {
        if (SpanEnds is null) throw new InvalidOperationException("The span margin needs a span head.");
        var (start, end) = SpanHead.Masked(logits, ContextMask!);
        var scores = start.unsqueeze(2) + end.unsqueeze(1);                      // [batch, start, end]
        using var positions = ScalarArithmetic.Range(logits.shape[1], logits.device);
        using var length = positions.unsqueeze(0) - positions.unsqueeze(1);     // end − start
        var context = ContextMask!.to_type(ScalarType.Bool);
        var band = length.GreaterThan(-1) & length.SubtractedFrom(maxAnswerLength).GreaterThan(0);
        var valid = band.unsqueeze(0) & context.unsqueeze(2) & context.unsqueeze(1);
        var chosen = Labels.view(-1, 1, 1).eq(positions.view(1, -1, 1)) & SpanEnds.view(-1, 1, 1).eq(positions.view(1, 1, -1));
        var runnerUp = scores.FilledWhere(valid.logical_not() | chosen, 4 * BertClassifier.MaskValue).amax([1, 2]);
        var best = scores.FilledWhere(chosen.logical_not(), 4 * BertClassifier.MaskValue).amax([1, 2]);
        return nn.functional.relu((runnerUp - best).Plus(margin)).mean();
    }

    /// <summary>
    /// The output residual ∂Loss/∂logits at this target, per row (summed loss): softmax − one-hot for a class; for a span
    /// head (softmax − one-hot) / 2 of start and of end over the context, 0 outside it. It is what every input gradient of
    /// the loss contracts the logits' gradients with.
    /// </summary>
    public Tensor Residual(Tensor logits)
    {
        var point = logits.detach().requires_grad_(true);
        return autograd.grad([Loss(point, nn.Reduction.Sum)], [point])[0].detach();
    }

    /// <summary>
    /// The model's own prediction for each row of <paramref name="batch"/> from its head output: the argmax class, or the
    /// best context span of at most <paramref name="maxAnswerLength"/> pieces, found exactly as the engine decodes.
    /// </summary>
    public static HeadTarget Predicted(BertClassifier model, TensorBatch batch, Tensor logits, int maxAnswerLength = SpanDecoding.DefaultMaxAnswerLength)
    {
        using var _ = no_grad();
        if (model.Config.Head != ModelHead.Span) return new HeadTarget(logits.argmax(-1), null, null);
        var contextMask = SpanHead.ContextMask(batch);
        var flat = logits.detach().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        int sequence = (int)logits.shape[1];
        var spans = new SpanPrediction[batch.Size];
        for (int row = 0; row < batch.Size; row++)
        {
            var (start, end) = SpanPredictor.Row(flat, row, sequence, sequence);
            var (first, last) = SpanDecoding.ContextRange(batch.Inputs[row]);
            spans[row] = SpanDecoding.BestSpan(start, end, first, last, maxAnswerLength);
        }
        return new HeadTarget(tensor(spans.Select(s => (long)s.Start).ToArray(), [batch.Size]),
            tensor(spans.Select(s => (long)s.End).ToArray(), [batch.Size]), contextMask) { Spans = spans };
    }
}
