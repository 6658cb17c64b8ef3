using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Saliency;

/// <summary>The plain gradient-norm variant of simple gradient: ||G_t||_2 per token, one gradient per input.</summary>
[Analysis("simple_norm", "gradient norm", Standard = false)]
public sealed class GradientNorm : SampledGradient
{
    protected override int SampleCount => 1;

    protected override float[] Sample(float[] clean, TokenizedInput input, int k) => clean;

    protected override (float[] Raw, Dictionary<string, double> Diagnostics) Reduce(float[] gradientSum, float[] clean, int hidden, Prediction prediction, float[] firstSampleLogits) =>
        (ScoreNormalization.GradientNorm(gradientSum, hidden), new());
}
