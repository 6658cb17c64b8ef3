using System.Globalization;
using System.Text;

namespace FacadeOnnx.Text;

/// <summary>
/// Canonical decomposition with nonspacing marks removed, from the committed table <c>accent-folding.txt</c> (made from
/// the Unicode Character Database; see Tokenization/README.md) plus the algorithmic Hangul syllable decomposition.
/// .NET cannot decompose text itself when globalization is invariant, which this repository's builds are.
/// </summary>
internal static class AccentFolding
{
    const string ResourceName = "FacadeOnnx.Text.Tokenization.accent-folding.txt";
    static readonly Lazy<Dictionary<int, string>> Table = new(Load);

    /// <summary>The folded form of a code point whose canonical decomposition differs from itself; false for the rest.</summary>
    public static bool TryGet(int codePoint, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? folded)
    {
        if (codePoint < 0xC0) { folded = null; return false; }
        if (codePoint is >= 0xAC00 and <= 0xD7A3) { folded = DecomposeHangul(codePoint); return true; }
        return Table.Value.TryGetValue(codePoint, out folded);
    }

    public static int Count => Table.Value.Count;

    // Unicode §3.12: a precomposed syllable is L V (T) jamo; all three are letters (Lo), so none is removed.
    static string DecomposeHangul(int s)
    {
        const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, VCount = 21, TCount = 28;
        int index = s - SBase;
        char l = (char)(LBase + index / (VCount * TCount));
        char v = (char)(VBase + index % (VCount * TCount) / TCount);
        int t = index % TCount;
        return t == 0 ? new string([l, v]) : new string([l, v, (char)(TBase + t)]);
    }

    static Dictionary<int, string> Load()
    {
        using var stream = typeof(AccentFolding).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource {ResourceName} is missing from FacadeOnnx.Text.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var table = new Dictionary<int, string>();
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            if (line.Length == 0 || line[0] == '#') continue;
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var folded = new StringBuilder();
            for (int i = 1; i < fields.Length; i++)
                folded.Append(char.ConvertFromUtf32(int.Parse(fields[i], NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            table[int.Parse(fields[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture)] = folded.ToString();
        }
        return table;
    }
}
