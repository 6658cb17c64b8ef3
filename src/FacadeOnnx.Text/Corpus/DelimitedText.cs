using System.Text;

namespace FacadeOnnx.Text;

/// <summary>
/// Rows of comma- or tab-separated text with RFC 4180 quoting: a field in double quotes may hold the separator, line
/// breaks and quotes written twice (""). Lines end in LF or CRLF; empty lines between rows are skipped. Each row keeps
/// the 1-based line it starts on, so errors name it even when quoted fields span lines.
/// </summary>
internal static class DelimitedText
{
    public readonly record struct Row(int Line, string[] Fields);

    public static IEnumerable<Row> Rows(string text, char separator, string path)
    {
        int i = 0, line = 1;
        var field = new StringBuilder();
        while (i < text.Length)
        {
            if (AtLineEnd(text, i))
            {
                i = SkipLineEnd(text, i);
                line++;
                continue;
            }
            int start = line;
            var fields = new List<string>();
            while (true)
            {
                if (i < text.Length && text[i] == '"')
                {
                    int opened = line;
                    i++;
                    while (true)
                    {
                        if (i >= text.Length)
                            throw new FacadeException($"{path}:{opened}: a quoted field starts on this line but its closing quote is missing; " +
                                                      "inside quotes, write a quote as two quotes (\"\").");
                        char c = text[i++];
                        if (c == '"')
                        {
                            if (i < text.Length && text[i] == '"') i++;
                            else break;
                        }
                        else if (c == '\n') line++;
                        field.Append(c);
                    }
                    if (i < text.Length && text[i] != separator && !AtLineEnd(text, i))
                        throw new FacadeException($"{path}:{line}: '{text[i]}' follows a closing quote; a quoted field ends at the quote, " +
                                                  "and a quote inside it is written as two quotes (\"\").");
                }
                else
                    while (i < text.Length && text[i] != separator && !AtLineEnd(text, i)) field.Append(text[i++]);
                fields.Add(field.ToString());
                field.Clear();
                if (i < text.Length && text[i] == separator)
                {
                    i++;
                    continue;
                }
                if (i < text.Length)
                {
                    i = SkipLineEnd(text, i);
                    line++;
                }
                break;
            }
            yield return new Row(start, fields.ToArray());
        }
    }

    static bool AtLineEnd(string text, int i) => text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.Length || text[i + 1] == '\n'));

    static int SkipLineEnd(string text, int i) => text[i] == '\r' && i + 1 < text.Length ? i + 2 : i + 1;
}
