namespace FacadeOnnx.Text;

/// <summary>
/// One word of BERT's basic tokenization, already folded (lower case, accents removed). Character k of
/// <see cref="Text"/> came from the source characters [Starts[k], Ends[k]).
/// </summary>
internal readonly record struct BasicToken(string Text, int[] Starts, int[] Ends);
