using FacadeOnnx.Text;

namespace FacadeOnnx.Text.Tests;

public class QaWindowTests
{
    const string DevB = "dev-b-v1.1.json";

    static readonly Lazy<IReadOnlyList<SquadQuestion>> DevBQuestions = new(() => Squad.Load(TestData.Root, "dev-b"));

    /// <summary>The word pieces of a text alone ([CLS] text [SEP], never cut): positions 1 to Length - 2.</summary>
    static TokenizedInput Alone(string text) => TestData.Tokenizer.Encode(text, maxLength: int.MaxValue);

    /// <summary>The dev-b questions whose contexts have the most word pieces, longest first.</summary>
    static SquadQuestion[] LongestContexts(int count) =>
        DevBQuestions.Value.DistinctBy(q => q.Context).OrderByDescending(q => Alone(q.Context).Length).Take(count).ToArray();

    /// <summary>Where each window's context starts among the context's pieces, if consecutive windows share exactly <paramref name="stride"/>.</summary>
    static int[] PieceStarts(IReadOnlyList<QaWindow> windows, int stride)
    {
        var starts = new int[windows.Count];
        for (int i = 1; i < windows.Count; i++) starts[i] = starts[i - 1] + windows[i - 1].ContextLength - stride;
        return starts;
    }

    [TestCase(64, 16, 24, 1)]
    [TestCase(128, 32, 64, 1)]
    [TestCase(384, 128, 64, 0)]
    public void WindowsOverlapByStrideAndCoverTheContext(int maxLength, int stride, int maxQueryLength, int everyNth)
    {
        IReadOnlyList<SquadQuestion> questions = everyNth > 0 ? DevBQuestions.Value : LongestContexts(40);
        WordPieceTokenizer tokenizer = TestData.Tokenizer;
        int multiWindow = 0, windowsSeen = 0;
        var aloneByContext = new Dictionary<string, TokenizedInput>();
        foreach (SquadQuestion q in questions)
        {
            if (!aloneByContext.TryGetValue(q.Context, out TokenizedInput? context))
                aloneByContext[q.Context] = context = Alone(q.Context);
            TokenizedInput question = Alone(q.Question);
            int contextPieces = context.Length - 2, questionPieces = question.Length - 2;
            int kept = Math.Min(questionPieces, maxQueryLength);
            int capacity = maxLength - kept - 3;

            IReadOnlyList<QaWindow> windows = QaWindows.Create(tokenizer, q, maxLength, stride, maxQueryLength);
            int[] starts = PieceStarts(windows, stride);
            Assert.That(windows.Count == 1, Is.EqualTo(contextPieces <= capacity), $"{q.Id}: one window exactly when the context fits");
            Assert.That(starts[^1] + windows[^1].ContextLength, Is.EqualTo(contextPieces), $"{q.Id}: the last window ends at the last piece");
            if (windows.Count > 1) multiWindow++;
            windowsSeen += windows.Count;

            for (int i = 0; i < windows.Count; i++)
            {
                QaWindow w = windows[i];
                TokenizedInput input = w.Input;
                string at = $"{q.Id} window {i}";
                Assert.That((w.QuestionId, w.WindowIndex), Is.EqualTo((q.Id, i)), at);
                Assert.That(input.Length, Is.LessThanOrEqualTo(maxLength), at);
                if (i < windows.Count - 1) Assert.That(w.ContextLength, Is.EqualTo(capacity), $"{at}: only the last window may be short");
                Assert.That(input.Length, Is.EqualTo(kept + 3 + w.ContextLength), at);
                Assert.That((w.ContextFirst, w.ContextLast, input.FirstSepIndex), Is.EqualTo((kept + 2, input.Length - 2, kept + 1)), at);
                Assert.That(input.DroppedPieces, Is.EqualTo(questionPieces - kept + contextPieces - w.ContextLength), at);

                // [CLS] question [SEP]: type id 0, spans into the question string.
                Assert.That(input.Ids[0], Is.EqualTo(tokenizer.ClsId), at);
                Assert.That(input.Ids[input.FirstSepIndex], Is.EqualTo(tokenizer.SepId), at);
                Assert.That(input.Ids[^1], Is.EqualTo(tokenizer.SepId), at);
                Assert.That(input.Spans[0].IsSpecial && input.Spans[input.FirstSepIndex].IsSpecial && input.Spans[^1].IsSpecial, at);
                Assert.That(input.TypeIds[..(input.FirstSepIndex + 1)], Is.All.EqualTo(0), at);
                Assert.That(input.TypeIds[(input.FirstSepIndex + 1)..], Is.All.EqualTo(1), at);
                Assert.That(input.Ids[1..(kept + 1)], Is.EqualTo(question.Ids[1..(kept + 1)]), $"{at}: the question's first {kept} pieces");
                Assert.That(input.Spans[1..(kept + 1)], Is.EqualTo(question.Spans[1..(kept + 1)]), at);

                // Context slice: the same pieces as the whole context at this window's start, segment 1, offsets into the whole context.
                for (int k = 0; k < w.ContextLength; k++)
                {
                    int position = w.ContextFirst + k, piece = 1 + starts[i] + k;
                    TokenSpan whole = context.Spans[piece];
                    if (input.Ids[position] != context.Ids[piece] || input.Spans[position] != whole with { Segment = 1 } ||
                        !input.InSegment(position, Segment.Second))
                        Assert.Fail($"{at}: position {position} should be context piece {piece - 1} ('{context.Tokens[piece]}' at {whole.Start})");
                }
                if (i > 0)
                {
                    QaWindow previous = windows[i - 1];
                    // The last `stride` tokens of the previous window are this window's first `stride` tokens.
                    Assert.That(input.Spans[w.ContextFirst..(w.ContextFirst + stride)],
                        Is.EqualTo(previous.Input.Spans[(previous.ContextLast + 1 - stride)..(previous.ContextLast + 1)]), $"{at}: overlap");
                    Assert.That(input.Spans[w.ContextFirst + stride].Start, Is.GreaterThanOrEqualTo(previous.Input.Spans[previous.ContextLast].End),
                        $"{at}: overlaps by no more than {stride}");
                }
            }
        }
        TestContext.Out.WriteLine($"max length {maxLength}, stride {stride}: {questions.Count} questions, {multiWindow} with several windows, {windowsSeen} windows");
        Assert.That(multiWindow, Is.GreaterThan(everyNth > 0 ? 1000 : 10));
    }

    [TestCase(128, 32, 64)]
    [TestCase(384, 128, 64)]
    public void AnswersInWindowsRoundTripToTheGoldText(int maxLength, int stride, int maxQueryLength)
    {
        WordPieceTokenizer tokenizer = TestData.Tokenizer;
        int questions = 0, withAnswerWindow = 0, answerWindows = 0, roundTrips = 0, exact = 0;
        var failures = new List<string>();
        var aloneByContext = new Dictionary<string, TokenizedInput>();
        foreach (SquadQuestion q in DevBQuestions.Value)
        {
            questions++;
            if (!aloneByContext.TryGetValue(q.Context, out TokenizedInput? context))
                aloneByContext[q.Context] = context = Alone(q.Context);
            SquadAnswer gold = q.Answers[0];
            // The oracle: the answer's pieces in the whole context, by the same overlap rule, as piece indices.
            TokenRange? whole = context.TokensOverlapping(0, gold.CharStart, gold.Text.Length);
            Assert.That(whole, Is.Not.Null, q.Id);
            int first = whole!.Value.First - 1, last = whole.Value.Last - 1;

            IReadOnlyList<QaWindow> windows = QaWindows.Create(tokenizer, q, maxLength, stride, maxQueryLength);
            int[] starts = PieceStarts(windows, stride);
            bool any = false;
            for (int i = 0; i < windows.Count; i++)
            {
                QaWindow w = windows[i];
                bool holds = first >= starts[i] && last < starts[i] + w.ContextLength;
                Assert.That(w.Answer != null, Is.EqualTo(holds), $"{q.Id} window {i}: Answer set exactly when the window holds all answer pieces");
                if (w.Answer is not { } answer) continue;
                any = true;
                answerWindows++;
                Assert.That(answer, Is.EqualTo(new TokenRange(w.ContextFirst + first - starts[i], w.ContextFirst + last - starts[i])), q.Id);
                Assert.That(w.Input.TokensOverlapping(1, gold.CharStart, gold.Text.Length), Is.EqualTo(answer), q.Id);
                string text = SpanDecoding.AnswerText(w, q.Context, answer.First, answer.Last);
                if (text == gold.Text) exact++;
                if (SquadMetrics.Normalize(text) == SquadMetrics.Normalize(gold.Text))
                {
                    roundTrips++;
                    continue;
                }
                // The only excuse: the gold span starts or ends inside a word piece ("four" of "fourth", "h" of "With"),
                // so the tokens reach further, to the piece's edges.
                Assert.That(text, Does.Contain(gold.Text.Trim()).And.Length.GreaterThan(gold.Text.Trim().Length), $"{q.Id} window {i}");
                failures.Add($"{q.Id} window {i}: gold '{gold.Text}' → tokens '{text}'");
            }
            if (any) withAnswerWindow++;
        }
        double fraction = (double)roundTrips / answerWindows;
        TestContext.Out.WriteLine($"max length {maxLength}, stride {stride}: {questions} questions, {withAnswerWindow} with a window holding " +
                                  $"the first answer, {answerWindows} answer windows, {exact} give the gold text exactly, " +
                                  $"{roundTrips} after normalization ({fraction:P2}); differing:");
        foreach (string failure in failures.Distinct()) TestContext.Out.WriteLine("  " + failure);
        Assert.That(withAnswerWindow, Is.EqualTo(questions), "every dev-b answer fits in some window");
        Assert.That(fraction, Is.GreaterThanOrEqualTo(0.99));
    }

    [Test]
    public void ContextThatFitsGivesOneWindowLaidOutAsEncode()
    {
        int checkedQuestions = 0;
        foreach (SquadQuestion q in TestData.EveryNth(DevBQuestions.Value, 25))
        {
            TokenizedInput encoded = Squad.Encode(TestData.Tokenizer, q, QaWindows.DefaultMaxLength);
            if (encoded.Truncated || encoded.FirstSepIndex - 1 > QaWindows.DefaultMaxQueryLength) continue;
            IReadOnlyList<QaWindow> windows = QaWindows.Create(TestData.Tokenizer, q);
            Assert.That(windows, Has.Count.EqualTo(1), q.Id);
            TokenizedInput input = windows[0].Input;
            Assert.That(input.Ids, Is.EqualTo(encoded.Ids), q.Id);
            Assert.That(input.TypeIds, Is.EqualTo(encoded.TypeIds), q.Id);
            Assert.That(input.Tokens, Is.EqualTo(encoded.Tokens), q.Id);
            Assert.That(input.Spans, Is.EqualTo(encoded.Spans), q.Id);
            Assert.That((input.FirstSepIndex, input.DroppedPieces), Is.EqualTo((encoded.FirstSepIndex, 0)), q.Id);
            Assert.That(windows[0].Answer, Is.EqualTo(Squad.AnswerTokens(encoded, q.Answers[0])), q.Id);
            checkedQuestions++;
        }
        Assert.That(checkedQuestions, Is.GreaterThan(150));
    }

    [Test]
    public void QuestionIsCutAtMaxQueryLength()
    {
        SquadQuestion q = DevBQuestions.Value.MaxBy(q => Alone(q.Question).Length)!;
        TokenizedInput question = Alone(q.Question);
        int pieces = question.Length - 2, maxQueryLength = pieces - 5;
        QaWindow window = QaWindows.Create(TestData.Tokenizer, q, maxQueryLength: maxQueryLength)[0];
        Assert.That(window.Input.FirstSepIndex, Is.EqualTo(maxQueryLength + 1));
        Assert.That(window.Input.Tokens[1..(maxQueryLength + 1)], Is.EqualTo(question.Tokens[1..(maxQueryLength + 1)]));
        Assert.That(window.Input.DroppedPieces, Is.GreaterThanOrEqualTo(5));

        QaWindow uncut = QaWindows.Create(TestData.Tokenizer, q, maxQueryLength: pieces)[0];
        Assert.That(uncut.Input.FirstSepIndex, Is.EqualTo(pieces + 1));
        Assert.That(uncut.Input.Tokens[1..(pieces + 1)], Is.EqualTo(question.Tokens[1..(pieces + 1)]));
    }

    [Test]
    public void ForTrainingKeepsTheWindowsThatHoldTheAnswer()
    {
        SquadQuestion q = LongestContexts(1)[0];
        IReadOnlyList<QaWindow> all = QaWindows.Create(TestData.Tokenizer, q, maxLength: 128, stride: 32);
        IReadOnlyList<QaWindow> training = QaWindows.ForTraining(TestData.Tokenizer, q, DevB, maxLength: 128, stride: 32);
        // Windows hold arrays (compared by reference), so compare what identifies them.
        Assert.That(training.Select(w => (w.WindowIndex, w.Answer, w.Input.Spans[w.ContextFirst])),
            Is.EqualTo(all.Where(w => w.Answer != null).Select(w => (w.WindowIndex, w.Answer, w.Input.Spans[w.ContextFirst]))));
        Assert.That(training, Is.Not.Empty);
        Assert.That(training.Count, Is.LessThan(all.Count));
    }

    [Test]
    public void ForTrainingNamesTheFileAndQuestionWithoutAnAnswer()
    {
        SquadQuestion real = LongestContexts(1)[0];
        var none = new SquadQuestion("hand-made-no-answer", real.Question, real.Context, []);
        Assert.That(QaWindows.Create(TestData.Tokenizer, none).All(w => w.Answer == null));
        var e = Assert.Throws<FacadeException>(() => QaWindows.ForTraining(TestData.Tokenizer, none, DevB));
        Assert.That(e!.Message, Does.Contain(DevB).And.Contain("hand-made-no-answer").And.Contain("no answer"));
    }

    [Test]
    public void ForTrainingNamesTheFileAndQuestionWhoseAnswerNoWindowHolds()
    {
        SquadQuestion real = LongestContexts(1)[0];
        // An "answer" of the context's first 600 characters: far more pieces than a 64-token window holds.
        var tooLong = real with { Id = "hand-made-long-answer", Answers = [new SquadAnswer(real.Context[..600], 0)] };
        var e = Assert.Throws<FacadeException>(() => QaWindows.ForTraining(TestData.Tokenizer, tooLong, DevB, maxLength: 64, stride: 16));
        Assert.That(e!.Message, Does.Contain(DevB).And.Contain("hand-made-long-answer").And.Contain("no window holds").And.Contain("--stride 16"));

        // An "answer" that is one space covers no word piece, so no window can hold it.
        int space = real.Context.IndexOf(' ');
        var blank = real with { Id = "hand-made-blank-answer", Answers = [new SquadAnswer(" ", space)] };
        e = Assert.Throws<FacadeException>(() => QaWindows.ForTraining(TestData.Tokenizer, blank, DevB));
        Assert.That(e!.Message, Does.Contain(DevB).And.Contain("hand-made-blank-answer"));
    }

    [Test]
    public void BadSettingsNameTheOption()
    {
        SquadQuestion q = DevBQuestions.Value[0];
        int questionPieces = Alone(q.Question).Length - 2;
        var e = Assert.Throws<FacadeException>(() => QaWindows.Create(TestData.Tokenizer, q, maxLength: questionPieces + 3));
        Assert.That(e!.Message, Does.Contain("--max-length").And.Contain(q.Id).And.Contain($"at least {questionPieces + 4}"));
        Assert.That(QaWindows.Create(TestData.Tokenizer, q, maxLength: questionPieces + 4, stride: 0), Is.Not.Empty,
            "one context piece a window is enough");

        int capacity = 64 - questionPieces - 3;
        e = Assert.Throws<FacadeException>(() => QaWindows.Create(TestData.Tokenizer, q, maxLength: 64, stride: capacity));
        Assert.That(e!.Message, Does.Contain("--stride").And.Contain(q.Id));
        Assert.That(QaWindows.Create(TestData.Tokenizer, q, maxLength: 64, stride: capacity - 1), Is.Not.Empty);
        e = Assert.Throws<FacadeException>(() => QaWindows.Create(TestData.Tokenizer, q, stride: -1));
        Assert.That(e!.Message, Does.Contain("--stride"));
        e = Assert.Throws<FacadeException>(() => QaWindows.Create(TestData.Tokenizer, q, maxQueryLength: 0));
        Assert.That(e!.Message, Does.Contain("--max-query-length"));
    }
}
