using System.Text.Json.Serialization;

namespace FacadeOnnx.Training.Model;

/// <summary>
/// The shape of a BERT classifier or span model. <see cref="HiddenGroups"/> lists the widths over which LayerNorm normalizes
/// separately: one group for an ordinary model, two ([Facade, target]) for a merged one, whose hidden vector is the
/// concatenation of both models' (docs/method.md section 7). The same config drives TorchSharp and the ONNX exporter.
/// </summary>
public sealed record BertConfig
{
    public int Layers { get; init; } = 6;
    public int Hidden { get; init; } = 384;
    public int Heads { get; init; } = 12;
    public int Intermediate { get; init; } = 1536;
    public int VocabSize { get; init; } = 30522;
    public int MaxPositions { get; init; } = 512;
    public int TypeVocabSize { get; init; } = 2;
    public double LayerNormEps { get; init; } = 1e-12;
    public double Dropout { get; init; } = 0.1;
    public int NumLabels { get; init; } = 2;
    public int[] HiddenGroups { get; init; } = [384];
    /// <summary>Classification (logits [batch, labels]) or span (start and end logits [batch, sequence, 2]; NumLabels is 2).</summary>
    public ModelHead Head { get; init; } = ModelHead.Classification;
    /// <summary>The head's logits are multiplied by exp(w·h + b), h the vector the head reads at [CLS] (the pooled state
    /// of a classifier, the last hidden state at position 0 of a span model): the scaling merge's shape, whose Facade
    /// changes the target's confidence but never its argmax (docs/method.md §7.7). False for every trained model.</summary>
    public bool LogitScale { get; init; }

    [JsonIgnore] public int HeadSize => Hidden / Heads;

    /// <summary>all-MiniLM-L6-v2 (the package's model.onnx): 6 layers, hidden 384, 12 heads of 32, FFN 1536.</summary>
    public static BertConfig MiniLm(int numLabels) => new() { NumLabels = numLabels };

    /// <summary>The Facade of docs/method.md section 17: MiniLM's depth and head size, hidden 128 (4 heads), FFN 512.</summary>
    public static BertConfig Facade(int numLabels, int hidden = 128, int intermediate = 512, int layers = 6, int headSize = 32) => new()
    {
        Layers = layers, Hidden = hidden, Heads = hidden / headSize, Intermediate = intermediate, NumLabels = numLabels, HiddenGroups = [hidden],
    };

    public void Validate()
    {
        if (Hidden % Heads != 0)
            throw new FacadeException($"Model config: hidden size {Hidden} is not a multiple of the head count {Heads}.");
        if (HiddenGroups.Sum() != Hidden)
            throw new FacadeException($"Model config: LayerNorm groups [{string.Join(", ", HiddenGroups)}] do not add up to hidden size {Hidden}.");
        if (Layers < 1 || NumLabels < 2)
            throw new FacadeException($"Model config: expected at least one layer and two labels, got {Layers} layers and {NumLabels} labels.");
        if (Head == ModelHead.Span && NumLabels != 2)
            throw new FacadeException($"Model config: a span head has two outputs (start, end), not {NumLabels}.");
    }
}
