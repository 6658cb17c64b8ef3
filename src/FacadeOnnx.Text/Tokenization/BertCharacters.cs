using System.Globalization;
using System.Text;

namespace FacadeOnnx.Text;

/// <summary>
/// The character classes of BERT's basic tokenizer (the one bert-base-uncased and all-MiniLM-L6-v2 were trained with):
/// what is whitespace, what is removed as a control character, what is split off as punctuation, what is a CJK
/// ideograph, and how uncased text is folded (lower case, canonical decomposition, nonspacing marks removed).
/// Written against Unicode data built into .NET, so it behaves the same with <c>InvariantGlobalization</c> (where
/// <see cref="string.Normalize()"/> does nothing).
/// </summary>
internal static class BertCharacters
{
    public static bool IsWhitespace(Rune r) =>
        r.Value is ' ' or '\t' or '\n' or '\r' || Rune.GetUnicodeCategory(r) == UnicodeCategory.SpaceSeparator;

    /// <summary>Removed before tokenization: NUL, U+FFFD and every "other" category except tab, newline and carriage return.</summary>
    public static bool IsRemoved(Rune r)
    {
        if (r.Value is 0 or 0xFFFD) return true;
        if (r.Value is '\t' or '\n' or '\r') return false;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;
    }

    /// <summary>Every ASCII non-alphanumeric printable character (including $, +, &lt;, `, |, ~) and every Unicode P* character.</summary>
    public static bool IsPunctuation(Rune r)
    {
        int c = r.Value;
        if (c is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126) return true;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    /// <summary>The CJK Unified Ideograph blocks BERT splits into single-character words (not Hangul, kana).</summary>
    public static bool IsCjkIdeograph(Rune r)
    {
        int c = r.Value;
        return c is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF
            or >= 0x2A700 and <= 0x2B73F or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF
            or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
    }

    /// <summary>
    /// Folds one character of uncased text: lower case, canonical decomposition, nonspacing marks dropped, lower case
    /// again (so that U+0130, which has no simple lower-case mapping, ends as "i"). Appends the result to
    /// <paramref name="output"/>; appends nothing for a lone nonspacing mark.
    /// </summary>
    public static void AppendFolded(Rune r, StringBuilder output)
    {
        Rune lower = Rune.ToLowerInvariant(r);
        if (AccentFolding.TryGet(lower.Value, out string? folded))
        {
            foreach (Rune f in folded.EnumerateRunes()) Append(Rune.ToLowerInvariant(f), output);
            return;
        }
        if (Rune.GetUnicodeCategory(lower) == UnicodeCategory.NonSpacingMark) return;
        Append(lower, output);
    }

    static void Append(Rune r, StringBuilder output)
    {
        if (r.IsBmp) output.Append((char)r.Value);
        else output.Append(r.ToString());
    }
}
