namespace FacadeOnnx.Text.Tests;

/// <summary>
/// A deliberately plain reference for lower-case ASCII text: split on spaces, split off every ASCII character that is
/// not a letter or digit, then greedy longest-match WordPiece over the raw vocabulary lines.
/// </summary>
static class ReferenceWordPiece
{
    public static List<string> Tokenize(string text, IReadOnlyDictionary<string, int> vocab)
    {
        var words = new List<string>();
        foreach (string chunk in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int start = 0;
            for (int i = 0; i < chunk.Length; i++)
            {
                if (char.IsAsciiLetterOrDigit(chunk[i])) continue;
                if (i > start) words.Add(chunk[start..i]);
                words.Add(chunk[i].ToString());
                start = i + 1;
            }
            if (start < chunk.Length) words.Add(chunk[start..]);
        }

        var tokens = new List<string>();
        foreach (string word in words)
        {
            var pieces = new List<string>();
            int at = 0;
            while (at < word.Length)
            {
                string? match = null;
                for (int end = word.Length; end > at; end--)
                {
                    string candidate = (at > 0 ? "##" : "") + word[at..end];
                    if (vocab.ContainsKey(candidate)) { match = candidate; at = end; break; }
                }
                if (match == null) { pieces = ["[UNK]"]; break; }
                pieces.Add(match);
            }
            tokens.AddRange(pieces);
        }
        return tokens;
    }
}
