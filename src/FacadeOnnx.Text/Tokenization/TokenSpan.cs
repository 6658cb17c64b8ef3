namespace FacadeOnnx.Text;

/// <summary>
/// Where a token came from: characters [Start, Start + Length) of its source string, segment 0 being the text and
/// segment 1 the pair. Special tokens ([CLS], [SEP]) have no source: Segment -1, Start 0, Length 0.
/// </summary>
public readonly record struct TokenSpan(int Segment, int Start, int Length)
{
    public static readonly TokenSpan Special = new(-1, 0, 0);

    public int End => Start + Length;

    public bool IsSpecial => Segment < 0;
}
