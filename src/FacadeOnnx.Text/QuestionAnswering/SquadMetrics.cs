using System.Text;

namespace FacadeOnnx.Text;

/// <summary>
/// The official SQuAD v1.1 metrics (evaluate-v1.1.py), reproduced step for step so that scores here are the scores
/// papers report: answers are normalized, exact match compares normalized strings, F1 compares bags of normalized tokens,
/// and each question takes its best score over its gold answers.
/// </summary>
public static class SquadMetrics
{
    /// <summary>
    /// evaluate-v1.1.py's <c>normalize_answer</c>, in its order: lower case (Python's <c>str.lower</c>), remove
    /// <c>string.punctuation</c> (ASCII punctuation only, so "–" and "’" stay), replace the whole words a, an and the by a
    /// space (<c>re.sub(r'\b(a|an|the)\b', ' ', text)</c>), then join the white-space-separated words with single spaces.
    /// </summary>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string lower = PythonStrings.Lower(text);
        var withoutPunctuation = new StringBuilder(lower.Length);
        foreach (char c in lower)
            if (!IsAsciiPunctuation(c)) withoutPunctuation.Append(c);
        return string.Join(' ', PythonStrings.Split(WithoutArticles(withoutPunctuation.ToString())));
    }

    /// <summary>1 when the normalized prediction equals some normalized gold answer, else 0.</summary>
    public static double ExactMatch(string prediction, IEnumerable<string> goldAnswers)
    {
        string normalized = Normalize(prediction);
        return MaxOverGold(goldAnswers, gold => normalized == Normalize(gold) ? 1.0 : 0.0);
    }

    /// <summary>
    /// The best token F1 over the gold answers, 0 to 1. Per answer: the common tokens are the multiset intersection of
    /// the normalized prediction's and gold's words; none in common gives 0 (so does an empty prediction), otherwise
    /// precision = common / prediction words, recall = common / gold words, F1 = 2PR / (P + R).
    /// </summary>
    public static double F1(string prediction, IEnumerable<string> goldAnswers)
    {
        List<string> predicted = PythonStrings.Split(Normalize(prediction));
        return MaxOverGold(goldAnswers, gold => TokenF1(predicted, PythonStrings.Split(Normalize(gold))));
    }

    /// <summary>
    /// Mean exact match and F1 in percent over all <paramref name="questions"/>, keyed by question id in
    /// <paramref name="predictions"/>; a question without a prediction scores 0 (the official script warns and goes on),
    /// predictions for other ids are ignored.
    /// </summary>
    public static SquadScore Evaluate(IReadOnlyList<SquadQuestion> questions, IReadOnlyDictionary<string, string> predictions)
    {
        ArgumentNullException.ThrowIfNull(questions);
        ArgumentNullException.ThrowIfNull(predictions);
        if (questions.Count == 0) throw new FacadeException("No SQuAD questions to evaluate; expected at least one.");
        double exactMatch = 0, f1 = 0;
        int predicted = 0;
        foreach (SquadQuestion question in questions)
        {
            if (!predictions.TryGetValue(question.Id, out string? prediction)) continue;
            predicted++;
            string[] gold = question.Answers.Select(a => a.Text).ToArray();
            if (gold.Length == 0)
                throw new FacadeException($"Question {question.Id} has no gold answer; SQuAD v1.1 scoring expects at least one.");
            exactMatch += ExactMatch(prediction, gold);
            f1 += F1(prediction, gold);
        }
        return new SquadScore(100.0 * exactMatch / questions.Count, 100.0 * f1 / questions.Count, questions.Count, predicted);
    }

    static double TokenF1(List<string> predicted, List<string> gold)
    {
        var goldCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string token in gold) goldCounts[token] = goldCounts.GetValueOrDefault(token) + 1;
        int common = 0;
        foreach (string token in predicted)
        {
            if (goldCounts.GetValueOrDefault(token) == 0) continue;
            goldCounts[token]--;
            common++;
        }
        if (common == 0) return 0;
        double precision = 1.0 * common / predicted.Count;
        double recall = 1.0 * common / gold.Count;
        return 2 * precision * recall / (precision + recall);
    }

    static double MaxOverGold(IEnumerable<string> goldAnswers, Func<string, double> score)
    {
        ArgumentNullException.ThrowIfNull(goldAnswers);
        double best = double.NegativeInfinity;
        foreach (string gold in goldAnswers) best = Math.Max(best, score(gold));
        if (double.IsNegativeInfinity(best))
            throw new FacadeException("No gold answers to score against; SQuAD v1.1 scoring expects at least one.");
        return best;
    }

    /// <summary>Python's <c>string.punctuation</c>: !"#$%&amp;'()*+,-./:;&lt;=&gt;?@[\]^_`{|}~</summary>
    static bool IsAsciiPunctuation(char c) => c is >= '!' and <= '/' or >= ':' and <= '@' or >= '[' and <= '`' or >= '{' and <= '~';

    /// <summary>
    /// <c>re.sub(r'\b(a|an|the)\b', ' ', text)</c>: with a word boundary on both sides a match is a whole run of word
    /// characters that reads a, an or the; each such run becomes one space.
    /// </summary>
    static string WithoutArticles(string text)
    {
        var output = new StringBuilder(text.Length);
        int i = 0;
        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && IsWordAt(text, i, out int width)) i += width;
            if (i > start)
            {
                ReadOnlySpan<char> word = text.AsSpan(start, i - start);
                if (word is "a" or "an" or "the") output.Append(' ');
                else output.Append(word);
                continue;
            }
            output.Append(text[i++]);
        }
        return output.ToString();
    }

    static bool IsWordAt(string text, int index, out int width)
    {
        if (Rune.DecodeFromUtf16(text.AsSpan(index), out Rune rune, out width) != System.Buffers.OperationStatus.Done)
        {
            width = 1;
            return false;
        }
        return PythonStrings.IsWordCharacter(rune);
    }
}
