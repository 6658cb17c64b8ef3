using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Saliency;

/// <summary>Reference defaults of METHOD.md section 9: sigma 0.01 of the embedding range, 10 samples, times the clean input.</summary>
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
public sealed class SmoothGrad(SmoothGradOptions? options = null) : ISaliencyMethod
{
    readonly SmoothGradOptions _options = options ?? new();

    public string Name => "smooth";

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

    public IReadOnlyList<SaliencyMap> Explain(GradientEngine engine, IReadOnlyList<TokenizedInput> inputs, IReadOnlyList<Prediction> predictions)
    {
        if (_options.Samples < 1) throw new FacadeException($"SmoothGrad needs at least one sample (got {_options.Samples}).");
        int h = engine.Hidden, n = _options.Samples;
        var order = Enumerable.Range(0, inputs.Count).OrderBy(i => inputs[i].Length).ToArray();
        var clean = new float[inputs.Count][];
        var sums = new float[inputs.Count][];
        IEnumerable<EngineSample> Samples()
        {
            foreach (int i in order)
            {
                clean[i] = engine.Embed(inputs[i].Ids);
                sums[i] = new float[clean[i].Length];
                for (int k = 0; k < n; k++)
                    yield return new EngineSample(Perturb(clean[i], inputs[i].Ids, k, _options), inputs[i].TypeIds, predictions[i].Label);
            }
        }
        engine.Gradients(Samples(), (s, _, gradient) =>
        {
            var sum = sums[order[s / n]];
            for (int j = 0; j < sum.Length; j++) sum[j] += gradient[j];
        });
        var maps = new SaliencyMap[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            var mean = sums[i].Select(v => v / n).ToArray();
            float[] raw = _options.TimesInput
                ? ScoreNormalization.GradientTimesInput(mean, clean[i], h)
                : Enumerable.Range(0, inputs[i].Length).Select(t => mean.AsSpan(t * h, h).ToArray().Sum()).ToArray();
            maps[i] = new SaliencyMap(Name, inputs[i], predictions[i].Label, predictions[i].Probability, raw, ScoreNormalization.AbsL1(raw),
                new Dictionary<string, double> { ["samples"] = n, ["sigma"] = _options.Sigma });
        }
        return maps;
    }
}
