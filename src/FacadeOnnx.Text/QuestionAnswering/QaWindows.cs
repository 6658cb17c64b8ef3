namespace FacadeOnnx.Text;

/// <summary>
/// Cuts a SQuAD question and its context into overlapping model inputs, as AllenNLP's <c>TransformerSquadReader</c>
/// does: the question is cut to its first --max-query-length word pieces, the context's word pieces are cut into windows
/// of at most <c>maxLength - questionPieces - 3</c> pieces, and consecutive windows share --stride pieces, so an answer
/// cut by one window's edge is whole in the next. The question and the context are tokenized once per question.
/// </summary>
public static class QaWindows
{
    public const int DefaultMaxLength = 384, DefaultStride = 128, DefaultMaxQueryLength = 64;

    /// <summary>Every window of the question, in context order; <see cref="QaWindow.WindowIndex"/> counts from 0.</summary>
    public static IReadOnlyList<QaWindow> Create(WordPieceTokenizer tokenizer, SquadQuestion question,
        int maxLength = DefaultMaxLength, int stride = DefaultStride, int maxQueryLength = DefaultMaxQueryLength)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(question);
        if (maxQueryLength < 1)
            throw new FacadeException($"--max-query-length {maxQueryLength} is too small: expected at least 1 question word piece.");
        if (stride < 0)
            throw new FacadeException($"--stride {stride} is negative: expected the number of word pieces consecutive windows share (0 or more).");

        List<WordPieceTokenizer.Piece> questionPieces = tokenizer.Pieces(question.Question);
        int questionDropped = Math.Max(0, questionPieces.Count - maxQueryLength);
        if (questionDropped > 0) questionPieces.RemoveRange(maxQueryLength, questionDropped);
        List<WordPieceTokenizer.Piece> contextPieces = tokenizer.Pieces(question.Context);
        if (contextPieces.Count == 0)
            throw new FacadeException($"Question {question.Id}: its context has no word pieces; expected a passage to look for the answer in.");

        int capacity = maxLength - questionPieces.Count - 3;
        if (capacity < 1)
            throw new FacadeException(
                $"--max-length {maxLength} is too small for question {question.Id}: its {questionPieces.Count} question word pieces " +
                $"(at most --max-query-length {maxQueryLength}), [CLS] and two [SEP] leave no room for the context; " +
                $"expected at least {questionPieces.Count + 4}.");
        if (stride >= capacity)
            throw new FacadeException(
                $"--stride {stride} is too large for question {question.Id}: a window holds {capacity} context word pieces " +
                $"(--max-length {maxLength} less {questionPieces.Count} question pieces and 3 special tokens); " +
                "expected a stride smaller than that, so that each window moves forward.");

        // The first answer's pieces among all context pieces, by TokensOverlapping's rule on the whole context: a window
        // holds the answer only when it holds every one of them.
        TokenRange? answerPieces = null;
        if (question.Answers.Count > 0)
        {
            TokenizedInput whole = tokenizer.Assemble(questionPieces, contextPieces, questionDropped);
            SquadAnswer first = question.Answers[0];
            if (whole.TokensOverlapping(1, first.CharStart, first.Text.Length) is { } range)
                answerPieces = new TokenRange(range.First - whole.FirstSepIndex - 1, range.Last - whole.FirstSepIndex - 1);
        }

        var windows = new List<QaWindow>();
        int contextFirst = questionPieces.Count + 2;
        for (int start = 0; ; start += capacity - stride)
        {
            int count = Math.Min(capacity, contextPieces.Count - start);
            int dropped = questionDropped + contextPieces.Count - count;
            TokenizedInput input = tokenizer.Assemble(questionPieces, contextPieces.GetRange(start, count), dropped);
            TokenRange? answer = answerPieces is { } a && a.First >= start && a.Last < start + count
                ? new TokenRange(contextFirst + a.First - start, contextFirst + a.Last - start)
                : null;
            windows.Add(new QaWindow(question.Id, windows.Count, input, contextFirst, contextFirst + count - 1, answer));
            if (start + count == contextPieces.Count) return windows;
        }
    }

    /// <summary>
    /// The windows to train on: those that hold the question's first gold answer. Throws a <see cref="FacadeException"/>
    /// naming <paramref name="source"/> (the file) and the question id when the question has no answer, or when no window
    /// holds the first one (an answer longer than a window, or one that covers no word piece).
    /// </summary>
    public static IReadOnlyList<QaWindow> ForTraining(WordPieceTokenizer tokenizer, SquadQuestion question, string source,
        int maxLength = DefaultMaxLength, int stride = DefaultStride, int maxQueryLength = DefaultMaxQueryLength)
    {
        ArgumentNullException.ThrowIfNull(question);
        if (question.Answers.Count == 0)
            throw new FacadeException($"{source}: question {question.Id} has no answer; training expects at least one gold answer.");
        QaWindow[] held = Create(tokenizer, question, maxLength, stride, maxQueryLength).Where(w => w.Answer != null).ToArray();
        if (held.Length == 0)
        {
            SquadAnswer first = question.Answers[0];
            throw new FacadeException(
                $"{source}: question {question.Id}: no window holds its first answer '{first.Text}' (context characters " +
                $"{first.CharStart} to {first.CharEnd}) with --max-length {maxLength}, --stride {stride}, --max-query-length {maxQueryLength}; " +
                "expected an answer that covers at least one word piece and fits in one window.");
        }
        return held;
    }
}
