using System.Numerics.Tensors;

namespace FacadeOnnx.Runtime.Saliency;

/// <summary>The reductions shared by the gradient methods.</summary>
public static class ScoreNormalization
{
    /// <summary>|a_t| / sum |a_t'| (docs/method.md section 9); all zeros stay zeros.</summary>
    public static float[] AbsL1(ReadOnlySpan<float> raw)
    {
        var result = new float[raw.Length];
        double total = 0;
        foreach (float v in raw) total += Math.Abs(v);
        if (total == 0) return result;
        for (int i = 0; i < raw.Length; i++) result[i] = (float)(Math.Abs(raw[i]) / total);
        return result;
    }

    /// <summary>Per token: sum over the hidden dimension of gradient x embedding.</summary>
    public static float[] GradientTimesInput(ReadOnlySpan<float> gradient, ReadOnlySpan<float> embeddings, int hidden)
    {
        int length = embeddings.Length / hidden;
        var scores = new float[length];
        for (int t = 0; t < length; t++)
            scores[t] = TensorPrimitives.Dot(gradient.Slice(t * hidden, hidden), embeddings.Slice(t * hidden, hidden));
        return scores;
    }

    /// <summary>Per token: the L2 norm of the gradient (the plain gradient-norm variant).</summary>
    public static float[] GradientNorm(ReadOnlySpan<float> gradient, int hidden)
    {
        int length = gradient.Length / hidden;
        var scores = new float[length];
        for (int t = 0; t < length; t++) scores[t] = TensorPrimitives.Norm(gradient.Slice(t * hidden, hidden));
        return scores;
    }
}
