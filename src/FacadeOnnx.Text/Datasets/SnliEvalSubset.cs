using System.Globalization;
using System.Text;

namespace FacadeOnnx.Text;

/// <summary>
/// The fixed 1,000-pair SNLI evaluation subset: 0-based line numbers of <c>snli/*.dev</c>, committed as the embedded
/// resource <c>Datasets/snli-eval-indices.txt</c>. Made once by <see cref="Generate"/>: the first 1,000 entries of
/// <see cref="SplitMix64.Permutation"/>(9,842, seed 42), sorted ascending. A test regenerates the file and compares.
/// </summary>
public static class SnliEvalSubset
{
    public const int DevPairs = 9842;
    public const int Size = 1000;
    public const ulong Seed = 42;
    public const string ResourceName = "FacadeOnnx.Text.Datasets.snli-eval-indices.txt";

    static readonly Lazy<int[]> Committed = new(ReadResource);

    /// <summary>The committed indices, ascending.</summary>
    public static IReadOnlyList<int> Indices => Committed.Value;

    /// <summary>The documented procedure: Fisher-Yates over 0..population-1 driven by SplitMix64(seed), first <paramref name="size"/> entries, sorted.</summary>
    public static int[] Generate(int population = DevPairs, int size = Size, ulong seed = Seed)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, population);
        int[] chosen = SplitMix64.Permutation(population, seed)[..size];
        Array.Sort(chosen);
        return chosen;
    }

    /// <summary>The text of the committed resource for the given indices: one header comment line, then one index a line (LF).</summary>
    public static string Format(IReadOnlyList<int> indices)
    {
        var text = new StringBuilder();
        text.Append("# SNLI eval subset: 0-based line numbers of snli/*.dev. Made by a Fisher-Yates shuffle of 0..")
            .Append(DevPairs - 1)
            .Append(" (for i from the end down to 1, swap with j = next() mod (i + 1)) driven by SplitMix64 seeded with ")
            .Append(Seed)
            .Append(", keeping the first ")
            .Append(Size)
            .Append(" entries, sorted ascending. See Datasets/README.md.\n");
        foreach (int index in indices) text.Append(index.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return text.ToString();
    }

    /// <summary>The resource text as embedded in this assembly.</summary>
    public static string ResourceText()
    {
        using var stream = typeof(SnliEvalSubset).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource {ResourceName} is missing from FacadeOnnx.Text.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    static int[] ReadResource()
    {
        var indices = new List<int>(Size);
        foreach (string raw in ResourceText().Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#') continue;
            indices.Add(int.Parse(line, NumberStyles.None, CultureInfo.InvariantCulture));
        }
        int[] result = indices.ToArray();
        for (int i = 0; i < result.Length; i++)
            if (result[i] >= DevPairs || (i > 0 && result[i] <= result[i - 1]))
                throw new InvalidOperationException($"{ResourceName}: entry {i} ({result[i]}) is out of range or out of order.");
        if (result.Length != Size)
            throw new InvalidOperationException($"{ResourceName} holds {result.Length} indices, not {Size}.");
        return result;
    }
}
