using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FacadeOnnx.Text;

/// <summary>
/// Texts from a user's file rather than a dataset split: .txt (one text a line), .jsonl ("text", optional
/// "text_pair" and "label") or .csv/.tsv with a header (<see cref="CorpusColumns"/>). The file is read once: its bytes
/// are hashed (<see cref="Sha256"/>) and decoded as UTF-8. Every record keeps its index in the file; a file holds
/// single texts or pairs throughout, and labels on every record or on none. A label is a label name of the model
/// (any case) or an index into them. Errors are <see cref="FacadeException"/>s naming the file, the line and the
/// value, and what was expected.
/// </summary>
public sealed class UserCorpus
{
    UserCorpus(string path, string sha256, CorpusFormat format, CorpusColumns columns, IReadOnlyList<CorpusRecord> records, IReadOnlyList<string> labelNames)
    {
        Path = path;
        Sha256 = sha256;
        Format = format;
        Columns = columns;
        Records = records;
        LabelNames = labelNames;
    }

    /// <summary>The file's full path.</summary>
    public string Path { get; }
    /// <summary>SHA-256 (lower-case hex) of the file's bytes: with a record's index, the key of that record.</summary>
    public string Sha256 { get; }
    public CorpusFormat Format { get; }
    public CorpusColumns Columns { get; }
    /// <summary>The records in file order; <c>Records[i].Index == i</c>. Never empty.</summary>
    public IReadOnlyList<CorpusRecord> Records { get; }
    /// <summary>The label names the labels were resolved against.</summary>
    public IReadOnlyList<string> LabelNames { get; }
    public bool HasLabels => Records[0].Label != null;
    public bool IsPairs => Records[0].Pair != null;

    /// <summary>The file extensions read, and the format of each.</summary>
    public static IReadOnlyDictionary<string, CorpusFormat> Extensions { get; } = new Dictionary<string, CorpusFormat>(StringComparer.OrdinalIgnoreCase)
    {
        [".txt"] = CorpusFormat.Lines, [".jsonl"] = CorpusFormat.JsonLines, [".csv"] = CorpusFormat.Csv, [".tsv"] = CorpusFormat.Tsv,
    };

    /// <summary>What a file of <paramref name="format"/> holds, in words (for errors and help).</summary>
    public static string Describe(CorpusFormat format, CorpusColumns? columns = null)
    {
        columns ??= new CorpusColumns();
        return format switch
        {
            CorpusFormat.Lines => "one text a line (blank lines are skipped)",
            CorpusFormat.JsonLines => $"one JSON object a line with a string \"{columns.Text}\", optionally \"{columns.Pair ?? CorpusColumns.DefaultJsonPair}\" " +
                                      $"(the second text of a pair) and \"{columns.Label ?? CorpusColumns.DefaultJsonLabel}\" (a label name or index)",
            _ => $"a header line naming the columns (the text in '{columns.Text}'" + (columns.Pair != null ? $", the pair's second text in '{columns.Pair}'" : "") +
                 (columns.Label != null ? $", the label in '{columns.Label}'" : "") + $"), then one record a line, {(format == CorpusFormat.Tsv ? "tab" : "comma")}-separated; " +
                 "a field holding the separator, a quote or a line break is put in double quotes, with quotes inside written twice",
        };
    }

    /// <summary>
    /// Reads <paramref name="path"/>; labels are resolved against <paramref name="labelNames"/> (the model's).
    /// </summary>
    public static UserCorpus Read(string path, IReadOnlyList<string> labelNames, CorpusColumns? columns = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(labelNames);
        columns ??= new CorpusColumns();
        string full = System.IO.Path.GetFullPath(path);
        if (!Extensions.TryGetValue(System.IO.Path.GetExtension(full), out var format))
            throw new FacadeException($"'{full}': unknown input format '{System.IO.Path.GetExtension(full)}'; expected one of {string.Join(", ", Extensions.Keys)}.");
        if (format == CorpusFormat.Lines && !columns.IsDefault)
            throw new FacadeException($"'{full}' is a .txt file ({Describe(format)}), which has no columns; use .jsonl, .csv or .tsv for pairs and labels.");
        if (!File.Exists(full)) throw new FacadeException($"Input file '{full}' does not exist.");

        byte[] bytes = File.ReadAllBytes(full);
        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new FacadeException($"'{full}' is not UTF-8 text (invalid byte at offset {e.Index}); save it as UTF-8.");
        }
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];

        var raw = format switch
        {
            CorpusFormat.Lines => ReadLines(text),
            CorpusFormat.JsonLines => ReadJsonLines(text, full, columns),
            _ => ReadDelimited(text, format == CorpusFormat.Tsv ? '\t' : ',', full, columns),
        };
        var records = new List<CorpusRecord>();
        RawRecord? first = null;
        foreach (var r in raw)
        {
            string at = $"{full}:{r.Line}";
            if (string.IsNullOrWhiteSpace(r.Text))
                throw new FacadeException($"{at}: the text is empty; expected {Describe(format, columns)}.");
            first ??= r;
            if ((r.Pair != null) != (first.Value.Pair != null))
                throw new FacadeException($"{at}: {(r.Pair != null ? "this record is a pair" : "this record has no second text")} but the record on line " +
                                          $"{first.Value.Line} {(first.Value.Pair != null ? "is a pair" : "is not")}; a file holds single texts or pairs throughout.");
            if (r.Pair != null && string.IsNullOrWhiteSpace(r.Pair))
                throw new FacadeException($"{at}: the second text of the pair is empty.");
            if ((r.Label != null) != (first.Value.Label != null))
                throw new FacadeException($"{at}: {(r.Label != null ? "this record has a label" : "this record has no label")} but the record on line " +
                                          $"{first.Value.Line} {(first.Value.Label != null ? "has one" : "has none")}; label every record or none.");
            int? label = r.Label == null ? null : ResolveLabel(r.Label, labelNames, at);
            records.Add(new CorpusRecord(records.Count, r.Line, r.Text, r.Pair, label));
        }
        if (records.Count == 0)
            throw new FacadeException($"'{full}' holds no texts; expected {Describe(format, columns)}.");
        return new UserCorpus(full, Hashing.Sha256(bytes), format, columns, records, labelNames);
    }

    /// <summary>A label name (any case) or an index into <paramref name="labelNames"/>.</summary>
    static int ResolveLabel(string value, IReadOnlyList<string> labelNames, string at)
    {
        string trimmed = value.Trim();
        for (int i = 0; i < labelNames.Count; i++)
            if (string.Equals(labelNames[i], trimmed, StringComparison.OrdinalIgnoreCase)) return i;
        string expected = $"expected one of the model's labels {string.Join(", ", labelNames)} (or an index 0 to {labelNames.Count - 1})";
        if (int.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int index))
            return index >= 0 && index < labelNames.Count ? index
                : throw new FacadeException($"{at}: label index {index} is out of range; {expected}.");
        throw new FacadeException($"{at}: unknown label '{value}'; {expected}.");
    }

    /// <summary>A record as read, before its text is checked and its label resolved.</summary>
    readonly record struct RawRecord(int Line, string Text, string? Pair, string? Label);

    static IEnumerable<RawRecord> ReadLines(string text)
    {
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].EndsWith('\r') ? lines[i][..^1] : lines[i];
            if (!string.IsNullOrWhiteSpace(line)) yield return new RawRecord(i + 1, line, null, null);
        }
    }

    static IEnumerable<RawRecord> ReadJsonLines(string text, string path, CorpusColumns columns)
    {
        string textKey = columns.Text, pairKey = columns.Pair ?? CorpusColumns.DefaultJsonPair, labelKey = columns.Label ?? CorpusColumns.DefaultJsonLabel;
        string example = $"{{\"{textKey}\": \"a fine film .\", \"{labelKey}\": \"positive\"}}";
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            string at = $"{path}:{i + 1}";
            JsonElement root;
            try
            {
                using var document = JsonDocument.Parse(lines[i]);
                root = document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new FacadeException($"{at}: not valid JSON ({e.Message}); expected one object a line such as {example}.");
            }
            if (root.ValueKind != JsonValueKind.Object)
                throw new FacadeException($"{at}: a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an object; expected one object a line such as {example}.");
            if (!root.TryGetProperty(textKey, out var value) || value.ValueKind == JsonValueKind.Null)
                throw new FacadeException($"{at}: no \"{textKey}\" in this object (keys: {string.Join(", ", root.EnumerateObject().Select(p => p.Name))}); " +
                                          $"expected one object a line such as {example}.");
            string String(JsonElement element, string key) => element.ValueKind == JsonValueKind.String ? element.GetString()!
                : throw new FacadeException($"{at}: \"{key}\" is a JSON {element.ValueKind.ToString().ToLowerInvariant()}; expected a string.");
            string? pair = root.TryGetProperty(pairKey, out var p) && p.ValueKind != JsonValueKind.Null ? String(p, pairKey) : null;
            string? label = null;
            if (root.TryGetProperty(labelKey, out var l) && l.ValueKind != JsonValueKind.Null)
                label = l.ValueKind == JsonValueKind.Number ? l.GetRawText() : String(l, labelKey);
            yield return new RawRecord(i + 1, String(value, textKey), pair, label);
        }
    }

    static IEnumerable<RawRecord> ReadDelimited(string text, char separator, string path, CorpusColumns columns)
    {
        using var rows = DelimitedText.Rows(text, separator, path).GetEnumerator();
        if (!rows.MoveNext()) yield break;
        var header = rows.Current.Fields.Select(h => h.Trim()).ToArray();
        string names = string.Join(", ", header.Select(h => $"'{h}'"));
        int Column(string name, string option)
        {
            var matches = Enumerable.Range(0, header.Length).Where(c => string.Equals(header[c], name, StringComparison.OrdinalIgnoreCase)).ToArray();
            return matches.Length switch
            {
                1 => matches[0],
                0 => throw new FacadeException($"{path}:{rows.Current.Line}: no column '{name}' in the header; the header has {names}. " +
                                               $"Name the column with {option}."),
                _ => throw new FacadeException($"{path}:{rows.Current.Line}: the header has {matches.Length} columns named '{name}' ({names}); rename one."),
            };
        }
        int textColumn = Column(columns.Text, "--text-column");
        int? pairColumn = columns.Pair == null ? null : Column(columns.Pair, "--pair-column");
        int? labelColumn = columns.Label == null ? null : Column(columns.Label, "--label-column");
        while (rows.MoveNext())
        {
            var (line, fields) = rows.Current;
            if (fields.Length != header.Length)
                throw new FacadeException($"{path}:{line}: {fields.Length} field(s), but the header has {header.Length} ({names}); " +
                                          $"a field holding a {(separator == '\t' ? "tab" : "comma")}, a quote or a line break must be in double quotes.");
            string? label = labelColumn is int c && fields[c].Trim().Length > 0 ? fields[c] : null;
            yield return new RawRecord(line, fields[textColumn], pairColumn is int pc ? fields[pc] : null, label);
        }
    }
}
