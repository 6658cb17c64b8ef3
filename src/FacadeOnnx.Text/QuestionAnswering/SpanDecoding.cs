namespace FacadeOnnx.Text;

/// <summary>
/// Turns a span head's start and end logits into an answer: the best span inside a window's context, the best window of
/// a question, and the span's text cut from the context by the tokens' character offsets.
/// </summary>
public static class SpanDecoding
{
    /// <summary>Where an input's context lies, for [CLS] question [SEP] context [SEP]: from the piece after the first
    /// [SEP] to the piece before the last (the positions a span may take).</summary>
    public static (int First, int Last) ContextRange(TokenizedInput input) => (input.FirstSepIndex + 1, input.Length - 2);

    public const int DefaultMaxAnswerLength = 30;

    /// <summary>
    /// The span with <c>contextFirst &lt;= start &lt;= end &lt;= contextLast</c> and at most <paramref name="maxAnswerLength"/>
    /// tokens that maximizes <c>startLogits[start] + endLogits[end]</c>; ties go to the smaller start, then the smaller
    /// end (the first in scan order, so the answer does not depend on how ties were produced). O(n * maxAnswerLength).
    /// Spans scoring NaN never win over the first candidate.
    /// </summary>
    public static SpanPrediction BestSpan(ReadOnlySpan<float> startLogits, ReadOnlySpan<float> endLogits, int contextFirst, int contextLast,
        int maxAnswerLength = DefaultMaxAnswerLength)
    {
        if (maxAnswerLength < 1)
            throw new FacadeException($"--max-answer-length {maxAnswerLength} is too small: expected at least 1 token.");
        if (contextFirst < 0 || contextFirst > contextLast)
            throw new ArgumentOutOfRangeException(nameof(contextFirst), contextFirst,
                $"Expected 0 <= contextFirst <= contextLast ({contextLast}).");
        if (contextLast >= startLogits.Length || contextLast >= endLogits.Length)
            throw new ArgumentOutOfRangeException(nameof(contextLast), contextLast,
                $"Context position {contextLast} is past the logits ({startLogits.Length} start, {endLogits.Length} end).");

        int bestStart = contextFirst, bestEnd = contextFirst;
        float best = startLogits[contextFirst] + endLogits[contextFirst];
        for (int start = contextFirst; start <= contextLast; start++)
        {
            float startLogit = startLogits[start];
            int lastEnd = Math.Min(contextLast, start + maxAnswerLength - 1);
            for (int end = start; end <= lastEnd; end++)
            {
                float score = startLogit + endLogits[end];
                if (score > best)
                {
                    best = score;
                    bestStart = start;
                    bestEnd = end;
                }
            }
        }
        return new SpanPrediction(bestStart, bestEnd, best);
    }

    /// <summary>
    /// The best span over all windows of one question: each window's <see cref="BestSpan"/> over its context tokens, the
    /// highest score winning, ties to the earlier window. <c>startLogits[i]</c> and <c>endLogits[i]</c> are window i's
    /// logits over its positions (at least <c>Input.Length</c> of them; padding beyond is ignored).
    /// </summary>
    public static (int Window, SpanPrediction Span) BestOverWindows(IReadOnlyList<QaWindow> windows, IReadOnlyList<float[]> startLogits,
        IReadOnlyList<float[]> endLogits, int maxAnswerLength = DefaultMaxAnswerLength)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(startLogits);
        ArgumentNullException.ThrowIfNull(endLogits);
        if (windows.Count == 0) throw new ArgumentException("Expected at least one window.", nameof(windows));
        if (startLogits.Count != windows.Count || endLogits.Count != windows.Count)
            throw new ArgumentException(
                $"Expected one start and one end logit array a window: {windows.Count} windows, {startLogits.Count} start, {endLogits.Count} end.");

        int bestWindow = -1;
        SpanPrediction best = default;
        for (int i = 0; i < windows.Count; i++)
        {
            QaWindow window = windows[i];
            if (startLogits[i].Length < window.Input.Length || endLogits[i].Length < window.Input.Length)
                throw new ArgumentException(
                    $"Window {window.WindowIndex} of question {window.QuestionId} has {window.Input.Length} positions but " +
                    $"{startLogits[i].Length} start and {endLogits[i].Length} end logits.");
            SpanPrediction span = BestSpan(startLogits[i], endLogits[i], window.ContextFirst, window.ContextLast, maxAnswerLength);
            if (bestWindow < 0 || span.Score > best.Score)
            {
                bestWindow = i;
                best = span;
            }
        }
        return (bestWindow, best);
    }

    /// <summary>
    /// The answer text of tokens <paramref name="start"/> to <paramref name="end"/> of a window: the context's characters
    /// from the start token's first character to the end token's last, so the passage's own spacing, case and accents are
    /// kept (what the official SQuAD script compares against).
    /// </summary>
    public static string AnswerText(QaWindow window, string context, int start, int end)
    {
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(context);
        if (start < window.ContextFirst || end > window.ContextLast || start > end)
            throw new ArgumentOutOfRangeException(nameof(start), start,
                $"Expected context tokens {window.ContextFirst} <= start <= end <= {window.ContextLast}; got {start} to {end}.");
        int from = window.Input.Spans[start].Start, to = window.Input.Spans[end].End;
        if (to > context.Length)
            throw new ArgumentException(
                $"Token {end} of question {window.QuestionId}'s window {window.WindowIndex} ends at character {to}, past the " +
                $"{context.Length}-character context given; expected the context the window was made from.", nameof(context));
        return context[from..to];
    }
}
