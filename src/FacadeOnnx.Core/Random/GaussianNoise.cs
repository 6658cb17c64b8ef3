namespace FacadeOnnx;

/// <summary>
/// Reproducible standard-normal draws for SmoothGrad, shared by the ONNX Runtime engine and the TorchSharp reference so
/// both perturb with exactly the same values. The stream of sample <c>k</c> of an input is keyed by the seed, the
/// input's token ids (FNV-1a hash) and <c>k</c>, so a sentence gets the same noise alone or in any batch:
/// a <see cref="SplitMix64"/> seeded with <c>seed * 0x9E3779B97F4A7C15 ^ key ^ (k + 1) * 0xD1B54A32D192ED03</c> gives
/// pairs by Box-Muller, <c>u1 = ((x1 &gt;&gt; 11) + 1) 2^-53</c>, <c>u2 = (x2 &gt;&gt; 11) 2^-53</c>,
/// <c>r = sqrt(-2 ln u1)</c>, values <c>r cos(2 pi u2)</c> then <c>r sin(2 pi u2)</c>, in double rounded to float, filling
/// the input's [position, hidden] values in row-major order.
/// </summary>
public static class GaussianNoise
{
    public static ulong Key(ReadOnlySpan<int> ids)
    {
        ulong hash = 14695981039346656037UL;
        foreach (int id in ids)
        {
            hash ^= (uint)id;
            hash *= 1099511628211UL;
        }
        return hash;
    }

    public static void Fill(Span<float> values, ulong seed, ReadOnlySpan<int> ids, int sample)
    {
        var random = new SplitMix64(unchecked(seed * 0x9E3779B97F4A7C15UL ^ Key(ids) ^ ((ulong)sample + 1) * 0xD1B54A32D192ED03UL));
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
