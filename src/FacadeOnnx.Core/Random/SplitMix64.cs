namespace FacadeOnnx;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood, 2014): a 64-bit state advanced by the golden-ratio constant and mixed by two
/// multiply-xorshift rounds. Small, fast and fully specified, so a seeded choice can be regenerated in any language.
/// Not thread-safe.
/// </summary>
public sealed class SplitMix64(ulong seed)
{
    ulong _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// A permutation of 0..n-1 by Fisher-Yates: for i from n-1 down to 1, swap a[i] with a[j], j = Next() mod (i + 1).
    /// (The modulo bias is below 2^-40 for any n this project uses.)
    /// </summary>
    public static int[] Permutation(int n, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        var random = new SplitMix64(seed);
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)(random.Next() % (ulong)(i + 1));
            (a[i], a[j]) = (a[j], a[i]);
        }
        return a;
    }
}
