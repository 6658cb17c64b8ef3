using System.Globalization;
using System.Text.RegularExpressions;

namespace FacadeOnnx;

/// <summary>
/// Sizes in bytes as people write them: "2GB", "1.5 GiB", "512MB", "800000000". KB, MB and GB are powers of 1000,
/// KiB, MiB and GiB powers of 1024 (as `ls -h` and `free --si` tell them apart); a bare number is bytes.
/// </summary>
public static partial class ByteSize
{
    static readonly Dictionary<string, long> Units = new(StringComparer.OrdinalIgnoreCase)
    {
        [""] = 1, ["B"] = 1,
        ["KB"] = 1000, ["MB"] = 1000_000, ["GB"] = 1000_000_000, ["TB"] = 1000_000_000_000,
        ["KiB"] = 1L << 10, ["MiB"] = 1L << 20, ["GiB"] = 1L << 30, ["TiB"] = 1L << 40,
    };

    /// <summary>The bytes <paramref name="text"/> stands for; <paramref name="what"/> names it in the error.</summary>
    public static long Parse(string text, string what = "size")
    {
        var match = Pattern().Match(text.Trim());
        if (!match.Success || !Units.TryGetValue(match.Groups[2].Value, out long unit)
            || !double.TryParse(match.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) || number <= 0)
            throw new FacadeException($"{what}: '{text}' is not a size; write a positive number with an optional unit, e.g. 2GB, 1.5GiB, 512MB " +
                                      "(KB/MB/GB are powers of 1000, KiB/MiB/GiB powers of 1024; no unit means bytes).");
        double bytes = number * unit;
        if (bytes >= long.MaxValue) throw new FacadeException($"{what}: '{text}' is too large.");
        return (long)bytes;
    }

    /// <summary>A size for people: "2.1 GB", "512.0 MB" (powers of 1000, as <see cref="Parse"/> reads GB and MB).</summary>
    public static string Format(long bytes) => bytes switch
    {
        >= 1000_000_000 => (bytes / 1e9).ToString("F1", CultureInfo.InvariantCulture) + " GB",
        >= 1000_000 => (bytes / 1e6).ToString("F1", CultureInfo.InvariantCulture) + " MB",
        >= 1000 => (bytes / 1e3).ToString("F1", CultureInfo.InvariantCulture) + " KB",
        _ => bytes + " B",
    };

    [GeneratedRegex(@"^([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)$")]
    private static partial Regex Pattern();
}
