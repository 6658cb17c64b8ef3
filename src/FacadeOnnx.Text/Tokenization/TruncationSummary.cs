namespace FacadeOnnx.Text;

/// <summary>
/// How many of a set of encoded texts were cut at the maximum length, and by how much: the median and largest number
/// of word pieces dropped among the texts that were cut (0 when none was).
/// </summary>
public sealed record TruncationSummary(int MaxLength, int Texts, int TextsCut, double MedianPiecesDropped, int MaxPiecesDropped)
{
    public static TruncationSummary Of(IReadOnlyList<TokenizedInput> inputs, int maxLength)
    {
        var dropped = inputs.Where(i => i.Truncated).Select(i => i.DroppedPieces).Order().ToArray();
        double median = dropped.Length == 0 ? 0
            : dropped.Length % 2 == 1 ? dropped[dropped.Length / 2]
            : (dropped[dropped.Length / 2 - 1] + dropped[dropped.Length / 2]) / 2.0;
        return new TruncationSummary(maxLength, inputs.Count, dropped.Length, median, dropped.Length == 0 ? 0 : dropped[^1]);
    }

    /// <summary>One sentence for people, shared by report.md, report.html and the CLI.</summary>
    public string Describe() => TextsCut == 0
        ? $"No text was longer than the maximum length of {MaxLength} word pieces; none was cut."
        : $"{TextsCut} of {Texts} texts {(TextsCut == 1 ? "was" : "were")} longer than the maximum length of {MaxLength} word pieces and {(TextsCut == 1 ? "was" : "were")} cut at the end " +
          $"(word pieces dropped per cut text: median {MedianPiecesDropped:0.#}, max {MaxPiecesDropped}); saliency and attacks see only what was kept.";
}
