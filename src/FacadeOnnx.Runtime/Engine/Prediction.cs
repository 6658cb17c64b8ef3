using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Engine;

/// <summary>
/// A model's output for one input: logits, softmax probabilities and the argmax label; for a span (QA) model, the best
/// span instead (<see cref="FromSpan"/>).
/// </summary>
public sealed record Prediction(int Label, float[] Probabilities, float[] Logits)
{
    public float Probability => Probabilities[Label];

    /// <summary>The best answer span of a span model (null for classifiers).</summary>
    public SpanPrediction? Span { get; init; }

    /// <summary>
    /// A span model's prediction: the span, and the start logits then the end logits of the input (context-masked) as
    /// <see cref="Logits"/>; <see cref="Label"/> is 0 and <see cref="Probabilities"/> holds the span's probability,
    /// softmax(start)[s] · softmax(end)[e].
    /// </summary>
    public static Prediction FromSpan(SpanPrediction span, float[] startThenEnd)
    {
        return new Prediction(0, [SpanProbability(startThenEnd, span)], startThenEnd) { Span = span };
    }

    /// <summary>softmax(start)[s] · softmax(end)[e] of start-then-end logits: (CE(start) + CE(end)) / 2 = −log(p_start · p_end) / 2.</summary>
    static float SpanProbability(ReadOnlySpan<float> startThenEnd, SpanPrediction span) => (float)Math.Exp(-2 * SpanLoss(startThenEnd, span));

    /// <summary>
    /// Where this span prediction's answer sits in an edited copy of its input that is <paramref name="length"/> tokens
    /// long. Analyses edit only the question (<see cref="GradientEngine.EditableSegment"/>), so every deleted token was
    /// before the context and moved the answer one position left; a replacement ([MASK], a flip) moves nothing. The
    /// original length is the logits': a span model's hold start then end logits, one per token.
    /// </summary>
    public SpanPrediction? SpanAt(int length)
    {
        if (Span is not { } span) return null;
        int deleted = Logits.Length / 2 - length;
        return span with { Start = span.Start - deleted, End = span.End - deleted };
    }

    /// <summary>The probability this prediction keeps under the logits of an edited input (leave-one-out, faithfulness,
    /// input reduction, HotFlip): its class's, or its answer span's where the edit moved it (<see cref="SpanAt"/>).</summary>
    public float ProbabilityUnder(ReadOnlySpan<float> logits) =>
        SpanAt(logits.Length / 2) is { } span ? SpanProbability(logits, span) : FromLogits(logits).Probabilities[Label];

    /// <summary>Whether <paramref name="other"/>, the prediction for an edited input, is still this one: the same class,
    /// or the same answer span where the edit moved it.</summary>
    public bool SameAs(Prediction other) =>
        SpanAt(other.Logits.Length / 2) is { } span ? other.Span is { } answer && (answer.Start, answer.End) == (span.Start, span.End) : other.Label == Label;

    /// <summary>The best span of a span model's start-then-end logits for an input (<see cref="SpanDecoding"/>).</summary>
    public static Prediction DecodeSpan(TokenizedInput input, ReadOnlySpan<float> startThenEnd, int maxAnswerLength)
    {
        int n = startThenEnd.Length / 2;
        var (first, last) = SpanDecoding.ContextRange(input);
        var span = SpanDecoding.BestSpan(startThenEnd[..n], startThenEnd[n..], first, last, maxAnswerLength);
        return FromSpan(span, startThenEnd.ToArray());
    }

    /// <summary>The loss gradients are of, at this prediction, for other logits of the same input (IG's baseline):
    /// cross-entropy at <see cref="Label"/>, or for spans (CE(start) + CE(end)) / 2 at <see cref="Span"/>.</summary>
    public double LossAt(ReadOnlySpan<float> logits) => Span is { } span ? SpanLoss(logits, span) : CrossEntropy(logits, Label);

    static double SpanLoss(ReadOnlySpan<float> startThenEnd, SpanPrediction span)
    {
        int n = startThenEnd.Length / 2;
        return (CrossEntropy(startThenEnd[..n], span.Start) + CrossEntropy(startThenEnd[n..], span.End)) / 2;
    }

    public static Prediction FromLogits(ReadOnlySpan<float> logits)
    {
        var copy = logits.ToArray();
        float max = copy.Max();
        var exp = copy.Select(v => MathF.Exp(v - max)).ToArray();
        float sum = exp.Sum();
        var probabilities = exp.Select(v => v / sum).ToArray();
        int label = Array.IndexOf(copy, max);
        return new Prediction(label, probabilities, copy);
    }

    /// <summary>Cross-entropy of these logits at <paramref name="target"/>: logsumexp(logits) - logits[target], in double.</summary>
    public double Loss(int target) => Span is { } span ? SpanLoss(Logits, span) : CrossEntropy(Logits, target);

    public static double CrossEntropy(ReadOnlySpan<float> logits, int target)
    {
        double max = double.NegativeInfinity;
        foreach (float v in logits) max = Math.Max(max, v);
        double sum = 0;
        foreach (float v in logits) sum += Math.Exp(v - max);
        return max + Math.Log(sum) - logits[target];
    }
}
