namespace FacadeOnnx.Text;

/// <summary>
/// How SQuAD questions become model inputs and answers (docs/method.md §3): windows of at most <see cref="MaxLength"/>
/// pieces overlapping by <see cref="Stride"/> context pieces, questions cut at <see cref="MaxQueryLength"/> pieces, and
/// answers of at most <see cref="MaxAnswerLength"/> pieces. Recorded in QA checkpoints so every later step reads alike.
/// </summary>
public sealed record QaSettings
{
    public int MaxLength { get; init; } = QaWindows.DefaultMaxLength;
    public int Stride { get; init; } = QaWindows.DefaultStride;
    public int MaxQueryLength { get; init; } = QaWindows.DefaultMaxQueryLength;
    public int MaxAnswerLength { get; init; } = SpanDecoding.DefaultMaxAnswerLength;

    /// <summary>The windows of one question.</summary>
    public IReadOnlyList<QaWindow> Windows(WordPieceTokenizer tokenizer, SquadQuestion question) =>
        QaWindows.Create(tokenizer, question, MaxLength, Stride, MaxQueryLength);

    /// <summary>The windows of one training question that hold its answer (errors name <paramref name="source"/> and the question id).</summary>
    public IReadOnlyList<QaWindow> TrainingWindows(WordPieceTokenizer tokenizer, SquadQuestion question, string source) =>
        QaWindows.ForTraining(tokenizer, question, source, MaxLength, Stride, MaxQueryLength);

    public void Validate()
    {
        if (MaxAnswerLength < 1) throw new FacadeException($"--max-answer-length {MaxAnswerLength} must be at least 1.");
        if (MaxQueryLength < 1) throw new FacadeException($"--max-query-length {MaxQueryLength} must be at least 1.");
        if (Stride < 0) throw new FacadeException($"--stride {Stride} must be ≥ 0.");
    }
}
