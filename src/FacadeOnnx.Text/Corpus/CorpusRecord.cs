namespace FacadeOnnx.Text;

/// <summary>
/// One text (or pair) of a user's file. <see cref="Index"/> is the record's 0-based position among the file's records
/// (blank lines and the header do not count), stable for a given file and the key, with the file's SHA-256, by which
/// audits address it; <see cref="Line"/> is the 1-based line it starts on, for messages. <see cref="Label"/> is the
/// index into the model's label names, or null when the file has no labels.
/// </summary>
public sealed record CorpusRecord(int Index, int Line, string Text, string? Pair, int? Label);
