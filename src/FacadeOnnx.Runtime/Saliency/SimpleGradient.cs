using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Saliency;

/// <summary>Simple gradient (Simonyan et al. 2014) as gradient x input, the paper's default: one gradient per input.</summary>
[Analysis("simple", "simple gradient", Aliases = ["gradient"])]
public sealed class SimpleGradient : SampledGradient
{
    protected override int SampleCount => 1;

    protected override float[] Sample(float[] clean, TokenizedInput input, int k) => clean;

    protected override (float[] Raw, Dictionary<string, double> Diagnostics) Reduce(float[] gradientSum, float[] clean, int hidden, Prediction prediction, float[] firstSampleLogits) =>
        (ScoreNormalization.GradientTimesInput(gradientSum, clean, hidden), new());
}
