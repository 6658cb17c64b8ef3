using FacadeOnnx.Text;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Evaluation;

/// <summary>One question's predicted answer: the window and span it came from, and the context characters they cover.</summary>
public sealed record SpanAnswer(string QuestionId, int Window, SpanPrediction Span, string Text);

/// <summary>
/// Start and end logits of a span model over many windows, batched by length, in eval mode without gradients, and
/// the answers they decode to: per question, the best span over its windows (<see cref="SpanDecoding"/>).
/// </summary>
public static class SpanPredictor
{
    /// <summary>Word pieces per evaluation batch at most, here and in <see cref="Facade.TorchSaliency"/> (64 windows of 384
    /// pieces took 19 GB in a forward pass and more than 23 GB with gradients through a merged model).</summary>
    public const int MaxPiecesPerBatch = 4096;

    /// <summary>Raw start and end logits per input, each as long as its input.</summary>
    public static (float[] Start, float[] End)[] Logits(BertClassifier model, IReadOnlyList<TokenizedInput> inputs, int batchSize = 32)
    {
        if (model.Config.Head != ModelHead.Span)
            throw new FacadeException("Span predictions need a model with a span head (a SQuAD checkpoint).");
        // A dispose scope keeps every layer's activations until the batch ends, and windows are long: cap the word
        // pieces per batch.
        int longest = inputs.Count == 0 ? 1 : inputs.Max(x => x.Length);
        return Predictor.Batched(model, inputs, Math.Max(1, Math.Min(batchSize, MaxPiecesPerBatch / longest)), (logits, group) =>
        {
            int length = (int)logits.shape[1];
            float[] flat = logits.data<float>().ToArray();
            return group.Select((input, r) => Row(flat, r, length, input.Length)).ToArray();
        });
    }

    /// <summary>The start and end logits of one row of span-head output ([batch, sequence, 2], flat), its first
    /// <paramref name="length"/> positions.</summary>
    public static (float[] Start, float[] End) Row(float[] flat, int row, int sequence, int length)
    {
        var start = new float[length];
        var end = new float[length];
        for (int t = 0; t < length; t++)
        {
            start[t] = flat[(row * sequence + t) * 2];
            end[t] = flat[(row * sequence + t) * 2 + 1];
        }
        return (start, end);
    }

    /// <summary>The best span of each input on its own (windows are not combined).</summary>
    public static SpanPrediction[] BestSpans(BertClassifier model, IReadOnlyList<TokenizedInput> inputs, int maxAnswerLength = SpanDecoding.DefaultMaxAnswerLength, int batchSize = 32) =>
        Logits(model, inputs, batchSize).Select((l, i) =>
        {
            var (first, last) = SpanDecoding.ContextRange(inputs[i]);
            return SpanDecoding.BestSpan(l.Start, l.End, first, last, maxAnswerLength);
        }).ToArray();

    /// <summary>Mean over inputs of the largest start and end probability over the context (1/context length when flat).</summary>
    public static double MeanMaxProbability(BertClassifier model, IReadOnlyList<TokenizedInput> inputs, int batchSize = 32) =>
        Logits(model, inputs, batchSize).Select((l, i) =>
        {
            var (first, last) = SpanDecoding.ContextRange(inputs[i]);
            return (MaxProbability(l.Start.AsSpan(first, last - first + 1)) + MaxProbability(l.End.AsSpan(first, last - first + 1))) / 2;
        }).DefaultIfEmpty(0).Average();

    static double MaxProbability(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity, sum = 0;
        foreach (float v in logits) max = Math.Max(max, v);
        foreach (float v in logits) sum += Math.Exp(v - max);
        return 1 / sum;
    }

    /// <summary>The answer to each question, the best span over its windows.</summary>
    public static SpanAnswer[] Answers(BertClassifier model, IReadOnlyList<SquadQuestion> questions, IReadOnlyList<IReadOnlyList<QaWindow>> windows,
        int maxAnswerLength = SpanDecoding.DefaultMaxAnswerLength, int batchSize = 32)
    {
        var logits = Logits(model, windows.SelectMany(w => w.Select(x => x.Input)).ToArray(), batchSize);
        var answers = new SpanAnswer[questions.Count];
        int offset = 0;
        for (int q = 0; q < questions.Count; q++)
        {
            var own = windows[q];
            var slice = logits.AsSpan(offset, own.Count).ToArray();
            offset += own.Count;
            var (window, span) = SpanDecoding.BestOverWindows(own, slice.Select(l => l.Start).ToArray(), slice.Select(l => l.End).ToArray(), maxAnswerLength);
            answers[q] = new SpanAnswer(questions[q].Id, window, span, SpanDecoding.AnswerText(own[window], questions[q].Context, span.Start, span.End));
        }
        return answers;
    }
}
