using FacadeOnnx.Text;

namespace FacadeOnnx.Training.Facade;

/// <summary>
/// The positions a Facade is trained to draw attribution to (docs/method.md 5.2), and the positions the saliency metrics of
/// docs/method.md 12.1 score: the first token (position 1, the first word piece after [CLS]) or the stop words, exact
/// word-piece matches of the NLTK list, optionally restricted to one segment of a sentence pair.
/// </summary>
public sealed class FacadeTarget
{
    readonly StopWords? _stopWords;

    FacadeTarget(string kind, Segment segment, StopWords? stopWords, string? segmentName = null)
    {
        Kind = kind;
        Segment = segment;
        _stopWords = stopWords;
        SegmentLabel = segmentName ?? SegmentName(segment);
    }

    public const string FirstTokenKind = "first-token";
    public const string StopWordsKind = "stop-words";

    /// <summary>"first-token" or "stop-words".</summary>
    public string Kind { get; }

    /// <summary>For stop words: the part of the input they are taken from (All for single sentences).</summary>
    public Segment Segment { get; }

    /// <summary>What the segment is called in this task: premise, hypothesis or all for sentence pairs, question for SQuAD.</summary>
    public string SegmentLabel { get; }

    /// <summary>A short name for logs and reports: "first-token", "stop-words", "stop-words(hypothesis)", "stop-words(question)".</summary>
    public string Name => Kind == StopWordsKind && Segment != Segment.All ? $"{Kind}({SegmentLabel})" : Kind;

    public static FacadeTarget FirstToken() => new(FirstTokenKind, Segment.All, null);

    public static FacadeTarget StopWords(StopWords words, Segment segment = Segment.All) => new(StopWordsKind, segment, words);

    /// <summary>Stop words of a SQuAD window's question (its first segment).</summary>
    public static FacadeTarget QuestionStopWords(StopWords words) => new(StopWordsKind, Segment.First, words, "question");

    /// <summary>The target named on the command line for SQuAD, where it is in the question: its first token or its stop
    /// words; <paramref name="segment"/> may only be "question" (or absent).</summary>
    public static FacadeTarget ParseQuestion(string kind, string? segment, Func<StopWords> loadStopWords)
    {
        if (segment is not (null or "question"))
            throw new FacadeException($"--segment {segment}: SQuAD Facades target the question (--segment question, the default).");
        return kind == StopWordsKind ? QuestionStopWords(loadStopWords()) : Parse(kind, null, pairTask: true, loadStopWords);
    }

    /// <summary>
    /// The target named on the command line. <paramref name="segment"/> (premise, hypothesis or all) applies to stop
    /// words of sentence pairs only; <paramref name="loadStopWords"/> is called only for stop words.
    /// </summary>
    public static FacadeTarget Parse(string kind, string? segment, bool pairTask, Func<StopWords> loadStopWords)
    {
        switch (kind)
        {
            case FirstTokenKind:
                if (segment != null)
                    throw new FacadeException($"--segment {segment} applies to --target {StopWordsKind} only; the first token is always the first word piece after [CLS].");
                return FirstToken();
            case StopWordsKind:
                var parsed = ParseSegment(segment);
                if (parsed != Segment.All && !pairTask)
                    throw new FacadeException($"--segment {segment} needs a sentence-pair task (snli); this task has single sentences.");
                return StopWords(loadStopWords(), parsed);
            default:
                throw new FacadeException($"--target '{kind}' is not a Facade target; expected {FirstTokenKind} or {StopWordsKind}.");
        }
    }

    public static Segment ParseSegment(string? segment) => segment switch
    {
        null or "all" => Segment.All,
        "premise" => Segment.First,
        "hypothesis" => Segment.Second,
        _ => throw new FacadeException($"--segment '{segment}' is not a segment; expected premise, hypothesis or all."),
    };

    public static string SegmentName(Segment segment) => segment switch
    {
        Segment.First => "premise",
        Segment.Second => "hypothesis",
        _ => "all",
    };

    /// <summary>The target positions of one encoded input, ascending (empty when it has no stop word).</summary>
    public IReadOnlyList<int> Positions(TokenizedInput input) =>
        Kind == FirstTokenKind
            ? input.Length > TokenizedInput.FirstTokenPosition ? [TokenizedInput.FirstTokenPosition] : []
            : _stopWords!.Positions(input, Segment);

    public override string ToString() => Name;
}
