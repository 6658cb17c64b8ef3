namespace FacadeOnnx.Text;

/// <summary>
/// One encoded input in BERT layout: <c>[CLS] a [SEP]</c> or <c>[CLS] a [SEP] b [SEP]</c>. Type ids are 0 for [CLS],
/// a and the first [SEP], 1 for b and the last [SEP]. <see cref="Tokens"/> are vocabulary entries ("##" marks a word
/// continuation), <see cref="Spans"/> locate each token in its source string, <see cref="DroppedPieces"/> counts the word
/// pieces cut to respect the maximum length, and <see cref="FirstSepIndex"/> is the position of the first [SEP].
/// </summary>
public sealed record TokenizedInput(int[] Ids, int[] TypeIds, string[] Tokens, TokenSpan[] Spans, int DroppedPieces, int FirstSepIndex)
{
    /// <summary>Whether word pieces were dropped to respect the maximum length.</summary>
    public bool Truncated => DroppedPieces > 0;

    /// <summary>Where the first word piece of the text sits: right after [CLS]. The paper's first-token Facade aims here.</summary>
    public const int FirstTokenPosition = 1;

    /// <summary>The number of tokens, special tokens included.</summary>
    public int Length => Ids.Length;

    /// <summary>Whether this input has a second segment.</summary>
    public bool IsPair => FirstSepIndex < Ids.Length - 1;

    /// <summary>
    /// This input with only the tokens at <paramref name="positions"/> (ascending, [CLS] and every [SEP] among them): what
    /// a deletion leaves, with tokens, spans and the first [SEP] following the kept positions.
    /// </summary>
    public TokenizedInput Keep(IReadOnlyList<int> positions)
    {
        int firstSep = -1;
        for (int k = 0; k < positions.Count && firstSep < 0; k++)
            if (positions[k] == FirstSepIndex) firstSep = k;
        if (firstSep < 0) throw new ArgumentException("The kept positions must include the first [SEP].", nameof(positions));
        return new TokenizedInput(positions.Select(p => Ids[p]).ToArray(), positions.Select(p => TypeIds[p]).ToArray(),
            positions.Select(p => Tokens[p]).ToArray(), positions.Select(p => Spans[p]).ToArray(), DroppedPieces, firstSep);
    }

    /// <summary>Whether position <paramref name="index"/> is in the selected part (special tokens are in none).</summary>
    public bool InSegment(int index, Segment segment) =>
        !Spans[index].IsSpecial && segment switch
        {
            Segment.All => true,
            Segment.First => index < FirstSepIndex,
            Segment.Second => index > FirstSepIndex,
            _ => throw new ArgumentOutOfRangeException(nameof(segment), segment, null),
        };

    /// <summary>
    /// The tokens of source segment <paramref name="segment"/> (0 = text, 1 = pair) whose characters overlap
    /// [<paramref name="charStart"/>, <paramref name="charStart"/> + <paramref name="charLength"/>): the first token
    /// overlapping the start to the last token overlapping the end. Null when no kept token overlaps the span.
    /// A zero-length span is treated as one character wide.
    /// </summary>
    public TokenRange? TokensOverlapping(int segment, int charStart, int charLength)
    {
        int charEnd = charStart + Math.Max(charLength, 1);
        int first = -1, last = -1;
        for (int i = 0; i < Spans.Length; i++)
        {
            TokenSpan s = Spans[i];
            if (s.Segment != segment || s.End <= charStart || s.Start >= charEnd) continue;
            if (first < 0) first = i;
            last = i;
        }
        return first < 0 ? null : new TokenRange(first, last);
    }
}
