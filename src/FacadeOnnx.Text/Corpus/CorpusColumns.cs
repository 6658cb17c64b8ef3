namespace FacadeOnnx.Text;

/// <summary>
/// Where a <see cref="UserCorpus"/> finds each part of a record: the header names of a .csv/.tsv file, or the keys of a
/// .jsonl object. A .csv/.tsv file has a pair or labels only when <see cref="Pair"/> or <see cref="Label"/> names a
/// column; a .jsonl object is read for "text_pair" and "label" unless other keys are named. A .txt file has no columns.
/// </summary>
public sealed record CorpusColumns
{
    public const string DefaultText = "text", DefaultJsonPair = "text_pair", DefaultJsonLabel = "label";

    public string Text { get; init; } = DefaultText;
    public string? Pair { get; init; }
    public string? Label { get; init; }

    /// <summary>Whether nothing differs from the defaults (all a .txt file allows).</summary>
    public bool IsDefault => Text == DefaultText && Pair == null && Label == null;
}
