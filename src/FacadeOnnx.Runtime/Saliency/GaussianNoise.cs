using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Saliency;

/// <summary>
/// Reproducible standard-normal draws for SmoothGrad: SplitMix64 and the Box-Muller transform, keyed by the seed, the
/// input's token ids and the sample number, so a sentence gets the same noise whether it is explained alone or in a
/// batch, and an independent implementation can draw exactly the same values.
/// </summary>
public static class GaussianNoise
{
    public static ulong Key(ReadOnlySpan<int> ids)
    {
        ulong hash = 14695981039346656037UL;   // FNV-1a
        foreach (int id in ids)
        {
            hash ^= (uint)id;
            hash *= 1099511628211UL;
        }
        return hash;
    }

    public static float[] Draw(ulong seed, ulong key, int sample, int count)
    {
        var random = new SplitMix64(unchecked(seed * 0x9E3779B97F4A7C15UL ^ key ^ ((ulong)sample * 0xD1B54A32D192ED03UL)));
        var values = new float[count];
        for (int i = 0; i < count; i += 2)
        {
            double u1 = ((random.Next() >> 11) + 0.5) * (1.0 / (1UL << 53));
            double u2 = (random.Next() >> 11) * (1.0 / (1UL << 53));
            double radius = Math.Sqrt(-2 * Math.Log(u1));
            values[i] = (float)(radius * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < count) values[i + 1] = (float)(radius * Math.Sin(2 * Math.PI * u2));
        }
        return values;
    }
}
