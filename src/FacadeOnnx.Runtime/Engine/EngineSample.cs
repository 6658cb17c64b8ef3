using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Engine;

/// <summary>
/// One row for the model: word-embedding lookup outputs ([length, hidden], row-major; perturbed or interpolated as a
/// method needs), the token ids they were looked up from, token type ids, and the class whose cross-entropy the
/// gradient is of (-1: the model's own argmax); for span models <see cref="Target"/> and <see cref="TargetEnd"/> are the
/// span whose loss it is of (-1: the model's own best span). The ids are fed only to models that still read <c>input_ids</c> after
/// the cut (many foreign exports take the sequence length from them); the gradient is always of the embeddings.
/// All positions are real tokens; the engine adds padding and the attention mask.
/// </summary>
public readonly record struct EngineSample(float[] Embeddings, int[] Ids, int[] TypeIds, int Target = -1, int TargetEnd = -1)
{
    public int Length => TypeIds.Length;

    /// <summary>A sample whose gradient is taken at <paramref name="prediction"/>: its class, or its span.</summary>
    public static EngineSample At(float[] embeddings, TokenizedInput input, Prediction prediction) => At(embeddings, input.Ids, input.TypeIds, prediction);

    /// <summary>The same for an edited row: a span where the edit moved it (<see cref="Prediction.SpanAt"/>).</summary>
    public static EngineSample At(float[] embeddings, int[] ids, int[] typeIds, Prediction prediction) =>
        prediction.SpanAt(ids.Length) is { } span
            ? new EngineSample(embeddings, ids, typeIds, span.Start, span.End)
            : new EngineSample(embeddings, ids, typeIds, prediction.Label);
}

/// <summary>Receives one sample's outputs: its logits (span models: start logits then end logits, each as long as the
/// sample) and (for gradient runs) d loss / d embeddings, [length, hidden]. Spans are only valid during the call.</summary>
public delegate void SampleConsumer(int index, ReadOnlySpan<float> logits, ReadOnlySpan<float> gradient);
