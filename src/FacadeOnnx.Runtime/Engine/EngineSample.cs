namespace FacadeOnnx.Runtime.Engine;

/// <summary>
/// One row for the model: word-embedding lookup outputs ([length, hidden], row-major; perturbed or interpolated as a
/// method needs), the token ids they were looked up from, token type ids, and the class whose cross-entropy the
/// gradient is of (-1: the model's own argmax). The ids are fed only to models that still read <c>input_ids</c> after
/// the cut (many foreign exports take the sequence length from them); the gradient is always of the embeddings.
/// All positions are real tokens; the engine adds padding and the attention mask.
/// </summary>
public readonly record struct EngineSample(float[] Embeddings, int[] Ids, int[] TypeIds, int Target = -1)
{
    public int Length => TypeIds.Length;
}

/// <summary>Receives one sample's outputs: its logits and (for gradient runs) d loss / d embeddings, [length, hidden].
/// Spans are only valid during the call.</summary>
public delegate void SampleConsumer(int index, ReadOnlySpan<float> logits, ReadOnlySpan<float> gradient);
