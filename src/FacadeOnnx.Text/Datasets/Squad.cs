using System.Text.Json;

namespace FacadeOnnx.Text;

/// <summary>
/// SQuAD v1.1 reader for <c>squad/dev-a-v1.1.json</c> (4,961 questions, the training half here) and
/// <c>squad/dev-b-v1.1.json</c> (5,609, the evaluation half), and the mapping of an answer's characters to token
/// positions of an encoded (question, context) pair. No QA model lives here; the windows,
/// span decoding and official metrics are <see cref="QaWindows"/>, <see cref="SpanDecoding"/> and <see cref="SquadMetrics"/>.
/// </summary>
public static class Squad
{
    public static IReadOnlyList<string> Parts { get; } = ["dev-a", "dev-b"];

    /// <summary>The sequence length of the reference SQuAD setup (docs/method.md §3).</summary>
    public const int DefaultMaxLength = 384;

    /// <summary>Reads "dev-a" or "dev-b" (also "train" for dev-a and "eval" for dev-b, as docs/method.md §17 uses them).</summary>
    public static IReadOnlyList<SquadQuestion> Load(string dataRoot, string part) => ReadFile(FilePath(dataRoot, part));

    /// <summary>The file of "dev-a" or "dev-b" under the data root; a missing file throws, naming the expected layout.</summary>
    public static string FilePath(string dataRoot, string part)
    {
        ArgumentNullException.ThrowIfNull(part);
        string file = part.Trim().ToLowerInvariant() switch
        {
            "dev-a" or "train" => "dev-a-v1.1.json",
            "dev-b" or "eval" => "dev-b-v1.1.json",
            _ => throw new FacadeException($"SQuAD has no part '{part}'; known parts: dev-a (train), dev-b (eval)."),
        };
        return DataFiles.Require(dataRoot, Path.Combine("squad", file), "SQuAD");
    }

    /// <summary>Parses a SQuAD v1.1 JSON file; structural problems throw a <see cref="FacadeException"/> naming the file and the JSON location.</summary>
    public static IReadOnlyList<SquadQuestion> ReadFile(string path)
    {
        JsonDocument document;
        try
        {
            using var stream = File.OpenRead(path);
            document = JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw new FacadeException($"{path}:{(e.LineNumber ?? 0) + 1}: not valid JSON ({e.Message}); expected a SQuAD v1.1 file.", e);
        }
        catch (FileNotFoundException e)
        {
            throw new FacadeException($"Missing SQuAD file '{path}'.\n{RepositoryPaths.ExpectedLayout}", e);
        }

        using (document)
        {
            var questions = new List<SquadQuestion>();
            // SQuAD 2.0 adds unanswerable questions, which a v1.1 span model cannot represent: refuse it by name.
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("version", out var version) &&
                version.ValueKind == JsonValueKind.String && version.GetString() is { } v && !v.TrimStart('v').StartsWith('1'))
                throw new FacadeException($"{path}: version '{v}' is not SQuAD v1.1; expected a SQuAD v1.1 file (every question answerable).");
            JsonElement data = Member(document.RootElement, "data", JsonValueKind.Array, path, "$");
            int a = 0;
            foreach (JsonElement article in data.EnumerateArray())
            {
                string articleAt = $"$.data[{a++}]";
                int p = 0;
                foreach (JsonElement paragraph in Member(article, "paragraphs", JsonValueKind.Array, path, articleAt).EnumerateArray())
                {
                    string paragraphAt = $"{articleAt}.paragraphs[{p++}]";
                    string context = Member(paragraph, "context", JsonValueKind.String, path, paragraphAt).GetString()!;
                    int q = 0;
                    foreach (JsonElement qa in Member(paragraph, "qas", JsonValueKind.Array, path, paragraphAt).EnumerateArray())
                    {
                        string qaAt = $"{paragraphAt}.qas[{q++}]";
                        string id = Member(qa, "id", JsonValueKind.String, path, qaAt).GetString()!;
                        string question = Member(qa, "question", JsonValueKind.String, path, qaAt).GetString()!;
                        if (qa.TryGetProperty("is_impossible", out var impossible) && impossible.ValueKind == JsonValueKind.True)
                            throw new FacadeException($"{path}: {qaAt} (question {id}) is marked is_impossible, a SQuAD 2.0 question; expected SQuAD v1.1.");
                        var answers = new List<SquadAnswer>();
                        int n = 0;
                        foreach (JsonElement answer in Member(qa, "answers", JsonValueKind.Array, path, qaAt).EnumerateArray())
                        {
                            string answerAt = $"{qaAt}.answers[{n++}]";
                            string text = Member(answer, "text", JsonValueKind.String, path, answerAt).GetString()!;
                            JsonElement startElement = Member(answer, "answer_start", JsonValueKind.Number, path, answerAt);
                            if (!startElement.TryGetInt32(out int start) || start < 0 || start + text.Length > context.Length ||
                                string.CompareOrdinal(context, start, text, 0, text.Length) != 0)
                                throw new FacadeException(
                                    $"{path}: {answerAt} (question {id}): answer '{text}' is not found at answer_start {startElement} of its context; " +
                                    "expected the context's characters there to equal the answer text.");
                            answers.Add(new SquadAnswer(text, start));
                        }
                        questions.Add(new SquadQuestion(id, question, context, answers));
                    }
                }
            }
            return questions;
        }
    }

    /// <summary>Encodes a question and its context as <c>[CLS] question [SEP] context [SEP]</c> (context = segment 1).</summary>
    public static TokenizedInput Encode(WordPieceTokenizer tokenizer, SquadQuestion question, int maxLength = DefaultMaxLength) =>
        tokenizer.Encode(question.Question, question.Context, maxLength);

    /// <summary>
    /// The token positions of an answer in an encoding of (question, context): from the first context token whose
    /// characters overlap the answer's start to the last one overlapping its end. Null when the answer is not wholly
    /// inside the kept tokens (truncation cut it).
    /// </summary>
    public static TokenRange? AnswerTokens(TokenizedInput encoding, SquadAnswer answer, int contextSegment = 1)
    {
        TokenRange? range = encoding.TokensOverlapping(contextSegment, answer.CharStart, answer.Text.Length);
        if (range == null || !encoding.Truncated) return range;
        int answerEnd = answer.CharStart + answer.Text.TrimEnd().Length;
        int keptEnd = 0;
        foreach (TokenSpan span in encoding.Spans)
            if (span.Segment == contextSegment) keptEnd = Math.Max(keptEnd, span.End);
        return keptEnd >= answerEnd ? range : null;
    }

    static JsonElement Member(JsonElement element, string name, JsonValueKind kind, string path, string at)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out JsonElement value))
            throw new FacadeException($"{path}: {at} has no '{name}'; expected SQuAD v1.1 JSON (data / paragraphs / context, qas / id, question, answers).");
        if (value.ValueKind != kind)
            throw new FacadeException($"{path}: {at}.{name} is {value.ValueKind}, expected {kind}.");
        return value;
    }
}
