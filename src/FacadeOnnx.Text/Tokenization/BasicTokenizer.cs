using System.Buffers;
using System.Text;

namespace FacadeOnnx.Text;

/// <summary>
/// BERT's basic tokenization, with every output character traced to its source characters: control characters
/// removed, whitespace splits, each CJK ideograph and each punctuation character is a word of its own; for uncased
/// models letters are lower-cased and stripped of accents, cased models keep them as written (as BERT's
/// <c>do_lower_case=False</c> does). The WordPiece step runs on each word afterwards.
/// </summary>
internal static class BasicTokenizer
{
    public static List<BasicToken> Split(string text, bool lowerCase = true)
    {
        var words = new List<BasicToken>();
        var word = new StringBuilder();
        var starts = new List<int>();
        var ends = new List<int>();
        var folded = new StringBuilder();

        void Flush()
        {
            if (word.Length == 0) return;
            words.Add(new BasicToken(word.ToString(), starts.ToArray(), ends.ToArray()));
            word.Clear();
            starts.Clear();
            ends.Clear();
        }

        void Single(string piece, int start, int end)
        {
            Flush();
            var s = new int[piece.Length];
            var e = new int[piece.Length];
            Array.Fill(s, start);
            Array.Fill(e, end);
            words.Add(new BasicToken(piece, s, e));
        }

        int i = 0;
        while (i < text.Length)
        {
            int start = i;
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out Rune rune, out int width) != OperationStatus.Done)
            {
                i += Math.Max(width, 1); // an unpaired surrogate: removed like other invalid characters
                continue;
            }
            i += width;
            if (BertCharacters.IsRemoved(rune)) continue;
            if (BertCharacters.IsWhitespace(rune)) { Flush(); continue; }
            if (BertCharacters.IsCjkIdeograph(rune)) { Single(rune.ToString(), start, i); continue; }

            folded.Clear();
            if (lowerCase) BertCharacters.AppendFolded(rune, folded);
            else folded.Append(rune.ToString());
            if (folded.Length == 0)
            {
                // A combining mark written as its own character: it belongs to the letter before it.
                if (ends.Count > 0) ends[^1] = i;
                continue;
            }
            foreach (Rune f in folded.ToString().EnumerateRunes())
            {
                if (BertCharacters.IsPunctuation(f)) { Single(f.ToString(), start, i); continue; }
                for (int k = 0; k < f.Utf16SequenceLength; k++) { starts.Add(start); ends.Add(i); }
                if (f.IsBmp) word.Append((char)f.Value);
                else word.Append(f.ToString());
            }
        }
        Flush();
        return words;
    }
}
