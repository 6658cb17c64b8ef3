using FacadeOnnx.Text;

namespace FacadeOnnx.Text.Tests;

public class SpanDecodingTests
{
    [Test]
    public void TiesGoToTheSmallerStartThenTheSmallerEnd()
    {
        // Context 1..4. Spans (1,2), (1,3), (2,2), (2,3), (3,2)… scoring 1 + 2 = 3 tie; (1,2) has the smallest start and end.
        float[] start = [9, 1, 1, 1, 0, 9], end = [9, 0, 2, 2, 2, 9];
        Assert.That(SpanDecoding.BestSpan(start, end, 1, 4), Is.EqualTo(new SpanPrediction(1, 2, 3)));
        // Everything equal: the first candidate, a one-token span at the context's start.
        float[] flat = new float[8];
        Assert.That(SpanDecoding.BestSpan(flat, flat, 2, 6), Is.EqualTo(new SpanPrediction(2, 2, 0)));
    }

    [Test]
    public void MaxAnswerLengthIsRespected()
    {
        float[] start = new float[20], end = new float[20];
        start[2] = 5;
        end[11] = 5; // the 10-token span 2..11 scores 10
        Assert.That(SpanDecoding.BestSpan(start, end, 1, 18, maxAnswerLength: 10), Is.EqualTo(new SpanPrediction(2, 11, 10)));
        // With at most 9 tokens the end at 11 is out of reach from 2: the best is start 2 alone (5), or end 11 alone (5): start 2 wins the tie.
        Assert.That(SpanDecoding.BestSpan(start, end, 1, 18, maxAnswerLength: 9), Is.EqualTo(new SpanPrediction(2, 2, 5)));
        Assert.That(SpanDecoding.BestSpan(start, end, 1, 18, maxAnswerLength: 1), Is.EqualTo(new SpanPrediction(2, 2, 5)));
    }

    [Test]
    public void SpansNeverLeaveTheContext()
    {
        // [CLS] q q [SEP] c c c [SEP] pad pad: the largest logits sit on [CLS], the question, [SEP] and padding.
        float[] start = [50, 40, 40, 30, 1, 2, 0, 60, 70, 70];
        float[] end = [50, 40, 40, 30, 0, 1, 3, 60, 70, 70];
        SpanPrediction best = SpanDecoding.BestSpan(start, end, 4, 6);
        Assert.That(best, Is.EqualTo(new SpanPrediction(5, 6, 5)));
    }

    [Test]
    public void BestOverWindowsPicksTheHigherScoringWindowAndTheEarlierOnATie()
    {
        SquadQuestion q = Squad.Load(TestData.Root, "dev-b").First(q => q.Context.Length > 1200);
        IReadOnlyList<QaWindow> windows = QaWindows.Create(TestData.Tokenizer, q, maxLength: 64, stride: 16);
        Assert.That(windows.Count, Is.GreaterThanOrEqualTo(3));
        float[][] start = windows.Select(w => new float[w.Input.Length + 3]).ToArray(); // longer than the window: padding
        float[][] end = windows.Select(w => new float[w.Input.Length + 3]).ToArray();
        start[0][windows[0].ContextFirst + 1] = 4;
        end[0][windows[0].ContextFirst + 2] = 4; // window 0: 8
        start[2][windows[2].ContextFirst] = 5;
        end[2][windows[2].ContextFirst + 3] = 4; // window 2: 9
        start[1][0] = end[1][0] = 100; // window 1's [CLS]: outside the context, never chosen
        var (window, span) = SpanDecoding.BestOverWindows(windows, start, end);
        Assert.That((window, span), Is.EqualTo((2, new SpanPrediction(windows[2].ContextFirst, windows[2].ContextFirst + 3, 9))));

        end[0][windows[0].ContextFirst + 2] = 5; // window 0 now 9 as well: the earlier window wins
        (window, span) = SpanDecoding.BestOverWindows(windows, start, end);
        Assert.That((window, span), Is.EqualTo((0, new SpanPrediction(windows[0].ContextFirst + 1, windows[0].ContextFirst + 2, 9))));
    }

    [Test]
    public void AnswerTextIsTheContextBetweenTheTokensCharacters()
    {
        SquadQuestion q = Squad.Load(TestData.Root, "dev-a")[0];
        QaWindow window = QaWindows.Create(TestData.Tokenizer, q)[0];
        TokenRange answer = window.Answer!.Value;
        Assert.That(SpanDecoding.AnswerText(window, q.Context, answer.First, answer.Last), Is.EqualTo(q.Answers[0].Text));
        // One token: its characters as written in the passage, case kept.
        TokenSpan span = window.Input.Spans[window.ContextFirst];
        Assert.That(SpanDecoding.AnswerText(window, q.Context, window.ContextFirst, window.ContextFirst), Is.EqualTo(q.Context.Substring(span.Start, span.Length)));
        // The whole slice.
        Assert.That(SpanDecoding.AnswerText(window, q.Context, window.ContextFirst, window.ContextLast),
            Is.EqualTo(q.Context[span.Start..window.Input.Spans[window.ContextLast].End]));

        Assert.Throws<ArgumentOutOfRangeException>(() => SpanDecoding.AnswerText(window, q.Context, window.ContextFirst - 1, window.ContextFirst));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpanDecoding.AnswerText(window, q.Context, window.ContextFirst + 1, window.ContextFirst));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpanDecoding.AnswerText(window, q.Context, window.ContextLast, window.ContextLast + 1));
        Assert.Throws<ArgumentException>(() => SpanDecoding.AnswerText(window, "short", window.ContextLast, window.ContextLast));
    }

    [Test]
    public void BadArgumentsAreRefused()
    {
        float[] logits = new float[10];
        var e = Assert.Throws<FacadeException>(() => SpanDecoding.BestSpan(logits, logits, 1, 8, maxAnswerLength: 0));
        Assert.That(e!.Message, Does.Contain("--max-answer-length"));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpanDecoding.BestSpan(logits, logits, 1, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpanDecoding.BestSpan(logits, logits, 5, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpanDecoding.BestSpan(logits, new float[5], 1, 8));

        QaWindow window = QaWindows.Create(TestData.Tokenizer, Squad.Load(TestData.Root, "dev-a")[0])[0];
        float[] tooShort = new float[window.Input.Length - 1];
        Assert.Throws<ArgumentException>(() => SpanDecoding.BestOverWindows([window], [tooShort], [tooShort]));
        float[] fits = new float[window.Input.Length];
        Assert.Throws<ArgumentException>(() => SpanDecoding.BestOverWindows([window], [fits, fits], [fits]));
        Assert.Throws<ArgumentException>(() => SpanDecoding.BestOverWindows([], [], []));
    }

    [Test]
    public void MatchesBruteForceOnRandomLogits()
    {
        var random = new Random(20240611);
        for (int trial = 0; trial < 3000; trial++)
        {
            int length = random.Next(1, 80);
            int contextFirst = random.Next(0, length), contextLast = random.Next(contextFirst, length);
            int maxAnswerLength = random.Next(1, 40);
            bool ties = trial % 2 == 0; // small integers make many ties
            float[] start = new float[length + random.Next(0, 4)], end = new float[start.Length];
            for (int i = 0; i < start.Length; i++)
            {
                start[i] = ties ? random.Next(-3, 4) : (float)(random.NextDouble() * 20 - 10);
                end[i] = ties ? random.Next(-3, 4) : (float)(random.NextDouble() * 20 - 10);
            }

            SpanPrediction expected = default;
            bool found = false;
            for (int s = contextFirst; s <= contextLast; s++)
                for (int e = s; e <= contextLast && e - s + 1 <= maxAnswerLength; e++)
                {
                    float score = start[s] + end[e];
                    // Best score; among equal scores the smaller start, then the smaller end.
                    if (!found || score > expected.Score ||
                        score == expected.Score && (s < expected.Start || s == expected.Start && e < expected.End))
                    {
                        expected = new SpanPrediction(s, e, score);
                        found = true;
                    }
                }
            SpanPrediction actual = SpanDecoding.BestSpan(start, end, contextFirst, contextLast, maxAnswerLength);
            Assert.That(actual, Is.EqualTo(expected), $"trial {trial}: context {contextFirst}..{contextLast}, max {maxAnswerLength}");
        }
    }
}
