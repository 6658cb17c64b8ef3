using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Saliency;

/// <summary>Reference defaults of docs/method.md section 9: sigma 0.01 of the embedding range, 10 samples, times the clean input.</summary>
public sealed record SmoothGradOptions
{
    public int Samples { get; init; } = 10;
    /// <summary>Noise standard deviation as a fraction of max(e) - min(e) over the input's whole embedding tensor.</summary>
    public double Sigma { get; init; } = 0.01;
    public ulong Seed { get; init; } = 42;
    /// <summary>Multiply the averaged gradient by the clean embeddings (the paper's fork); false sums raw gradients (upstream AllenNLP).</summary>
    public bool TimesInput { get; init; } = true;
}

/// <summary>SmoothGrad (Smilkov et al. 2017): gradients averaged over noisy copies of the word embeddings.</summary>
[Analysis("smooth", "SmoothGrad", Aliases = ["smoothgrad"])]
public sealed class SmoothGrad(SmoothGradOptions? options = null) : SampledGradient
{
    public SmoothGradOptions Options { get; } = options ?? new();

    /// <summary>The noisy embeddings of sample <paramref name="k"/>: e + sigma (max e - min e) z_k.</summary>
    public static float[] Perturb(float[] clean, ReadOnlySpan<int> ids, int k, SmoothGradOptions options)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in clean) { min = Math.Min(min, v); max = Math.Max(max, v); }
        float std = (float)(options.Sigma * (max - min));
        var noise = new float[clean.Length];
        GaussianNoise.Fill(noise, options.Seed, ids, k);
        for (int i = 0; i < noise.Length; i++) noise[i] = clean[i] + std * noise[i];
        return noise;
    }

    protected override int SampleCount => Options.Samples;

    protected override void Validate()
    {
        if (Options.Samples < 1) throw new FacadeException($"SmoothGrad needs at least one sample (got {Options.Samples}).");
    }

    protected override float[] Sample(float[] clean, TokenizedInput input, int k) => Perturb(clean, input.Ids, k, Options);

    protected override (float[] Raw, Dictionary<string, double> Diagnostics) Reduce(float[] gradientSum, float[] clean, int hidden, Prediction prediction, float[] firstSampleLogits)
    {
        int n = Options.Samples, length = clean.Length / hidden;
        var mean = gradientSum.Select(v => v / n).ToArray();
        float[] raw = Options.TimesInput
            ? ScoreNormalization.GradientTimesInput(mean, clean, hidden)
            : Enumerable.Range(0, length).Select(t => mean.AsSpan(t * hidden, hidden).ToArray().Sum()).ToArray();
        return (raw, new() { ["samples"] = n, ["sigma"] = Options.Sigma });
    }
}
