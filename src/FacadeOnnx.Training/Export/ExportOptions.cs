using FacadeOnnx.Graph.Building;

namespace FacadeOnnx.Training.Export;

/// <summary>How <see cref="BertOnnxExporter"/> writes a model.</summary>
public sealed record ExportOptions
{
    /// <summary>The ai.onnx opset, 11 to 21 (see <see cref="OpsetForms"/>).</summary>
    public int Opset { get; init; } = GraphBuilder.DefaultOpset;

    /// <summary>
    /// Run the last layer's queries, attention output and feed-forward block on the [CLS] row only: a classifier reads
    /// nothing else of that layer, so the other rows are dead work forward and backward (docs/design.md, "The last
    /// layer"). Keys and values still see every position. Off writes every row, as exports before this option did.
    /// </summary>
    public bool PruneLastLayer { get; init; } = true;

    public static ExportOptions Default { get; } = new();
}
