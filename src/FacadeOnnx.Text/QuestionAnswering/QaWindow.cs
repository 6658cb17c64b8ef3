namespace FacadeOnnx.Text;

/// <summary>
/// One model input for a question: <c>[CLS] question [SEP] context slice [SEP]</c>, laid out as
/// <see cref="WordPieceTokenizer.Encode"/> lays out a pair (context = segment 1, type id 1). The context tokens' spans
/// are character offsets into the FULL context, so any span of them maps back to the passage.
/// <see cref="ContextFirst"/> and <see cref="ContextLast"/> are the inclusive positions of the slice's first and last
/// token in <see cref="Input"/>; <see cref="Answer"/> is the first gold answer's token range in <see cref="Input"/>
/// when the slice holds all of it, else null. <see cref="TokenizedInput.DroppedPieces"/> counts the question pieces cut
/// at --max-query-length plus the context pieces outside this window.
/// </summary>
public sealed record QaWindow(string QuestionId, int WindowIndex, TokenizedInput Input, int ContextFirst, int ContextLast, TokenRange? Answer)
{
    /// <summary>The number of context tokens in this window.</summary>
    public int ContextLength => ContextLast - ContextFirst + 1;
}
