using System.Buffers;
using System.Globalization;
using System.Text;

namespace FacadeOnnx.Text;

/// <summary>
/// The parts of Python 3's <c>str</c> behaviour that the official SQuAD script relies on and .NET does differently:
/// <c>lower()</c> (full case mapping: U+0130 becomes "i" + U+0307, a capital sigma ending a word becomes final sigma),
/// the <c>re</c> word character <c>\w</c> (letters, every kind of number, "_"; not combining marks, unlike .NET's) and
/// <c>isspace()</c>/<c>split()</c> (which also split on U+001C to U+001F). Code points, not UTF-16 units, as Python counts.
/// </summary>
internal static class PythonStrings
{
    /// <summary>Python's <c>str.lower()</c>: .NET's invariant simple lower case plus Python's two full-mapping differences.</summary>
    public static string Lower(string text)
    {
        var lower = new StringBuilder(text.Length);
        int i = 0;
        while (i < text.Length)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out Rune rune, out int width) != OperationStatus.Done)
            {
                lower.Append(text[i++]); // an unpaired surrogate: Python keeps it unchanged
                continue;
            }
            if (rune.Value == 0x130) lower.Append("i\u0307");
            else if (rune.Value == 0x3A3) lower.Append(IsFinalSigma(text, i, width) ? '\u03C2' : '\u03C3');
            else Append(lower, Rune.ToLowerInvariant(rune));
            i += width;
        }
        return lower.ToString();
    }

    /// <summary>A character <c>re</c>'s <c>\w</c> matches in a str pattern: Python's <c>isalnum()</c> (letters, numbers) or "_".</summary>
    public static bool IsWordCharacter(Rune rune) => Rune.IsLetter(rune) || Rune.IsNumber(rune) || rune.Value == '_';

    /// <summary>Python's <c>str.isspace()</c> for one character.</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\u001C' and <= '\u001F';

    /// <summary>Python's <c>str.split()</c> without arguments: the runs of non-space characters.</summary>
    public static List<string> Split(string text)
    {
        var words = new List<string>();
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && IsSpace(text[i])) i++;
            int start = i;
            while (i < text.Length && !IsSpace(text[i])) i++;
            if (i > start) words.Add(text[start..i]);
        }
        return words;
    }

    /// <summary>
    /// Unicode's Final_Sigma condition, as CPython's <c>handle_capital_sigma</c> tests it: a cased letter before (skipping
    /// case-ignorable characters) and none after. Cased and Case_Ignorable are approximated from general categories and
    /// case mappings (the derived properties are not in .NET); the letters Python adds (ª, º, modifier letters) are rare.
    /// </summary>
    static bool IsFinalSigma(string text, int at, int width)
    {
        int j = at;
        bool casedBefore = false;
        while (j > 0)
        {
            Rune.DecodeLastFromUtf16(text.AsSpan(0, j), out Rune before, out int w);
            j -= Math.Max(w, 1);
            if (IsCaseIgnorable(before)) continue;
            casedBefore = IsCased(before);
            break;
        }
        if (!casedBefore) return false;
        j = at + width;
        while (j < text.Length)
        {
            Rune.DecodeFromUtf16(text.AsSpan(j), out Rune after, out int w);
            j += Math.Max(w, 1);
            if (IsCaseIgnorable(after)) continue;
            return !IsCased(after);
        }
        return true;
    }

    static bool IsCased(Rune r) =>
        Rune.GetUnicodeCategory(r) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter ||
        Rune.ToLowerInvariant(r) != r || Rune.ToUpperInvariant(r) != r;

    static bool IsCaseIgnorable(Rune r) =>
        Rune.GetUnicodeCategory(r) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
            or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol ||
        r.Value is '\'' or '.' or ':' or 0xB7 or 0x387 or 0x55F or 0x5F4 or 0x2018 or 0x2019 or 0x2024 or 0x2027
            or 0xFE13 or 0xFE52 or 0xFE55 or 0xFF07 or 0xFF0E or 0xFF1A; // Word_Break MidLetter, MidNumLet, Single_Quote

    static void Append(StringBuilder output, Rune r)
    {
        if (r.IsBmp) output.Append((char)r.Value);
        else output.Append(r.ToString());
    }
}
