namespace FacadeOnnx.Runtime.Engine;

/// <summary>
/// One row for the model: word-embedding lookup outputs ([length, hidden], row-major; perturbed or interpolated as a
/// method needs), token type ids, and the class whose cross-entropy the gradient is of (-1: the model's own argmax).
/// All positions are real tokens; the engine adds padding and the attention mask.
/// </summary>
public readonly record struct EngineSample(float[] Embeddings, int[] TypeIds, int Target = -1)
{
    public int Length => TypeIds.Length;
}

/// <summary>Receives one sample's outputs: its logits and (for gradient runs) d loss / d embeddings, [length, hidden].
/// Spans are only valid during the call.</summary>
public delegate void SampleConsumer(int index, ReadOnlySpan<float> logits, ReadOnlySpan<float> gradient);
