using FacadeOnnx.Text;

namespace FacadeOnnx.Training.Facade;

/// <summary>
/// The standard normal noise of SmoothGrad, generated so that any implementation can reproduce it bit for bit (the
/// ONNX Runtime engine does, to match <see cref="TorchSaliency"/>). For example <c>i</c> (its index in the list being
/// explained) and sample <c>k</c>, a <see cref="SplitMix64"/> stream is seeded with
/// <c>seed ^ (0x9E3779B97F4A7C15 · (i + 1)) ^ (0xD1B54A32D192ED03 · (k + 1))</c> (wrapping 64-bit products) and
/// produces pairs by Box-Muller: <c>u1 = ((x1 &gt;&gt; 11) + 1) · 2⁻⁵³</c>, <c>u2 = (x2 &gt;&gt; 11) · 2⁻⁵³</c>,
/// <c>r = sqrt(−2 ln u1)</c>, values <c>r cos(2π u2)</c> then <c>r sin(2π u2)</c>, computed in double and rounded to
/// float. Values fill the instance's real tokens in row-major order [position, hidden]; padding gets no noise.
/// </summary>
public static class SmoothGradNoise
{
    public static ulong StreamSeed(ulong seed, int example, int sample) =>
        unchecked(seed ^ (0x9E3779B97F4A7C15UL * (ulong)(example + 1)) ^ (0xD1B54A32D192ED03UL * (ulong)(sample + 1)));

    /// <summary>Fills <paramref name="values"/> with standard normal noise for (<paramref name="example"/>, <paramref name="sample"/>).</summary>
    public static void Fill(Span<float> values, ulong seed, int example, int sample)
    {
        var random = new SplitMix64(StreamSeed(seed, example, sample));
        const double Unit = 1.0 / (1UL << 53);
        for (int i = 0; i < values.Length; i += 2)
        {
            double u1 = ((random.Next() >> 11) + 1) * Unit;
            double u2 = (random.Next() >> 11) * Unit;
            double r = Math.Sqrt(-2 * Math.Log(u1));
            values[i] = (float)(r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < values.Length) values[i + 1] = (float)(r * Math.Sin(2 * Math.PI * u2));
        }
    }
}
