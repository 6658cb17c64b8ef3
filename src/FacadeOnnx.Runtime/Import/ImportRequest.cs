using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Import;

/// <summary>What `facade import` needs to turn a foreign classifier into a gradient model (docs/design.md 10).</summary>
public sealed record ImportRequest
{
    /// <summary>The foreign ONNX classifier (input_ids and friends to [batch, classes] logits).</summary>
    public required string OnnxPath { get; init; }
    /// <summary>The model's own tokenizer: its vocabulary must have one entry per row of the embedding table. Null: the
    /// vocabulary the file itself embeds (<c>facade.vocab</c>, as our own forward exports do).</summary>
    public WordPieceTokenizer? Tokenizer { get; init; }
    /// <summary>Label names in logit order; null: the file's own <c>facade.label_names</c> when it has them.</summary>
    public IReadOnlyList<string>? Labels { get; init; }
    /// <summary>Whether the model reads a pair of texts ([CLS] a [SEP] b [SEP]).</summary>
    public bool TextPair { get; init; }
    /// <summary>The positions the model can read; null: the rows of its position-embedding table.</summary>
    public int? MaxPositions { get; init; }
    /// <summary>The longest input to feed it; null: the file's own <c>facade.max_length</c>, else <see cref="MaxPositions"/>.</summary>
    public int? MaxLength { get; init; }
    /// <summary>What the model does, recorded as <c>facade.task</c>; null: the file's own, else "classification".</summary>
    public string? Task { get; init; }
    /// <summary>The graph input holding the token ids.</summary>
    public string IdsInput { get; init; } = "input_ids";
    /// <summary>Overrides: the lookup's output to differentiate at, and the logits output.</summary>
    public string? Wrt { get; init; }
    public string? Logits { get; init; }
    /// <summary>Where the request came from, for the provenance note (a folder, or the bare file).</summary>
    public string? Source { get; init; }
}
