namespace FacadeOnnx.Runtime.Engine;

/// <summary>A model's output for one input: logits, softmax probabilities and the argmax label.</summary>
public sealed record Prediction(int Label, float[] Probabilities, float[] Logits)
{
    public float Probability => Probabilities[Label];

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
