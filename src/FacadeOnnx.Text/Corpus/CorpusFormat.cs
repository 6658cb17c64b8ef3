namespace FacadeOnnx.Text;

/// <summary>The file formats a <see cref="UserCorpus"/> reads, chosen by the file's extension.</summary>
public enum CorpusFormat
{
    /// <summary>.txt: one text a line; blank lines are skipped.</summary>
    Lines,
    /// <summary>.jsonl: one JSON object a line with "text", optionally "text_pair" and "label".</summary>
    JsonLines,
    /// <summary>.csv: a header line naming the columns, then one record a line (RFC 4180 quoting).</summary>
    Csv,
    /// <summary>.tsv: as .csv, separated by tabs.</summary>
    Tsv,
}
