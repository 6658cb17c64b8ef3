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

    /// <summary>A span model's prediction: the span, with its score (start + end logit) as the only logit.</summary>
    public static Prediction FromSpan(SpanPrediction span) => new(0, [1f], [span.Score]) { Span = span };

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
    public double Loss(int target) => CrossEntropy(Logits, target);

    public static double CrossEntropy(ReadOnlySpan<float> logits, int target)
    {
        double max = double.NegativeInfinity;
        foreach (float v in logits) max = Math.Max(max, v);
        double sum = 0;
        foreach (float v in logits) sum += Math.Exp(v - max);
        return max + Math.Log(sum) - logits[target];
    }
}
