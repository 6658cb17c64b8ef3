using FacadeOnnx.Text;

namespace FacadeOnnx.Text.Tests;

public class SquadMetricsTests
{
    // Expected values printed by the official evaluate-v1.1.py normalize_answer (Python 3.11).
    [TestCase("The Eiffel Tower", "eiffel tower")]
    [TestCase("  the  EIFFEL-tower!! ", "eiffeltower")]
    [TestCase("A.B.C.", "abc")]
    [TestCase("an apple a day", "apple day")]
    [TestCase("theater another anthem", "theater another anthem")]
    [TestCase("The_the", "thethe")]
    [TestCase("(the) [an] {a}", "")]
    [TestCase("U.S. Navy's \"finest\"", "us navys finest")]
    [TestCase("Caf\u00e9 \u2013 \u201cthe\u201d end", "caf\u00e9 \u2013 \u201c \u201d end")]
    [TestCase("\u00fcber the\u00b2 the\u0301 th\u00e9", "\u00fcber the\u00b2 \u0301 th\u00e9")]
    [TestCase("x\u00a0y\u2003z\u001cw\u200bv", "x y z w\u200bv")]
    [TestCase("\u039f\u0394\u039f\u03a3 \u03a3\u0391 \u0391\u03a3.", "\u03bf\u03b4\u03bf\u03c2 \u03c3\u03b1 \u03b1\u03c2")]
    [TestCase("\u0130stanbul", "i\u0307stanbul")]
    [TestCase("tab\tand\nnew line", "tab and new line")]
    [TestCase("   ", "")]
    [TestCase("a an the", "")]
    [TestCase("1,000 $ 5% #1", "1000 5 1")]
    [TestCase("\U0001D400 the \U0001D400the", "\U0001D400 \U0001D400the")]
    [TestCase("ab\u0301the", "ab\u0301")]
    [TestCase("don't the's", "dont thes")]
    public void NormalizeMatchesTheOfficialScript(string text, string expected) =>
        Assert.That(SquadMetrics.Normalize(text), Is.EqualTo(expected));

    [Test]
    public void ArticlesAndCaseDoNotCount()
    {
        Assert.That(SquadMetrics.ExactMatch("The Eiffel Tower", ["eiffel tower"]), Is.EqualTo(1));
        Assert.That(SquadMetrics.F1("The Eiffel Tower", ["eiffel tower"]), Is.EqualTo(1));
        Assert.That(SquadMetrics.ExactMatch("an Eiffel Tower", ["Eiffel tower."]), Is.EqualTo(1));
    }

    [Test]
    public void PunctuationIsRemovedNotSplitOn()
    {
        Assert.That(SquadMetrics.ExactMatch("\"Denver Broncos!\"", ["Denver Broncos"]), Is.EqualTo(1));
        // "1,000" normalizes to "1000"; "Saint-Denis" to "saintdenis", one word that "Saint Denis" does not match.
        Assert.That(SquadMetrics.ExactMatch("1,000", ["1000"]), Is.EqualTo(1));
        Assert.That(SquadMetrics.ExactMatch("Saint-Denis", ["Saint Denis"]), Is.EqualTo(0));
        Assert.That(SquadMetrics.F1("Saint-Denis", ["Saint Denis"]), Is.EqualTo(0));
    }

    [Test]
    public void BestGoldAnswerCounts()
    {
        string[] gold = ["Denver Broncos", "the Broncos", "Broncos of Denver"];
        Assert.That(SquadMetrics.ExactMatch("Broncos", gold), Is.EqualTo(1), "\"the Broncos\" normalizes to \"broncos\"");
        // Against "Denver Broncos" alone: common 1 (broncos), P = 1/2, R = 1/2, F1 = 0.5.
        Assert.That(SquadMetrics.F1("Broncos Denver", ["Denver Broncos"]), Is.EqualTo(1), "a bag of words: order does not matter");
        Assert.That(SquadMetrics.F1("Broncos team", ["Denver Broncos"]), Is.EqualTo(0.5));
        // "Broncos team" against "Broncos of Denver": common 1, P = 1/2, R = 1/3, F1 = 2·(1/6)/(5/6) = 0.4; the max is 0.5 from the
        // first, and "the Broncos" (one word) gives P = 1/2, R = 1, F1 = 2·(1/2)/(3/2) = 2/3, the best.
        Assert.That(SquadMetrics.F1("Broncos team", ["Broncos of Denver"]), Is.EqualTo(0.4).Within(1e-12));
        Assert.That(SquadMetrics.F1("Broncos team", gold), Is.EqualTo(2.0 / 3).Within(1e-12));
        Assert.That(SquadMetrics.ExactMatch("Broncos team", gold), Is.EqualTo(0));
    }

    [Test]
    public void PartialOverlapF1ByHand()
    {
        // prediction "the city of Paris in France" → [city, of, paris, in, france] (5 words)
        // gold "Paris, the capital of France" → [paris, capital, of, france] (4 words)
        // common = {of, paris, france} = 3; P = 3/5 = 0.6, R = 3/4 = 0.75; F1 = 2·0.6·0.75 / (0.6 + 0.75) = 0.9 / 1.35 = 2/3.
        double f1 = SquadMetrics.F1("the city of Paris in France", ["Paris, the capital of France"]);
        Assert.That(f1, Is.EqualTo(2 * 0.6 * 0.75 / (0.6 + 0.75)));
        Assert.That(f1, Is.EqualTo(2.0 / 3).Within(1e-12));
    }

    [Test]
    public void RepeatedTokensCountAsAMultiset()
    {
        // prediction [new, york, new, york] against gold [new, york]: common = min(2,1) + min(2,1) = 2;
        // P = 2/4, R = 2/2, F1 = 2·0.5·1 / 1.5 = 2/3 (a set intersection would give the same 2 here, so also:)
        Assert.That(SquadMetrics.F1("New York New York", ["New York"]), Is.EqualTo(2.0 / 3).Within(1e-12));
        // prediction [new, new, new] against gold [new, new, york]: common = min(3,2) = 2 (a set would count 1);
        // P = 2/3, R = 2/3, F1 = 2/3.
        Assert.That(SquadMetrics.F1("new new new", ["new new York"]), Is.EqualTo(2.0 / 3).Within(1e-12));
    }

    [Test]
    public void EmptyPredictionScoresZeroUnlessTheGoldNormalizesToNothing()
    {
        Assert.That(SquadMetrics.ExactMatch("", ["Denver"]), Is.EqualTo(0));
        Assert.That(SquadMetrics.F1("", ["Denver"]), Is.EqualTo(0));
        Assert.That(SquadMetrics.F1("the", ["Denver"]), Is.EqualTo(0), "\"the\" normalizes to empty");
        // v1.1 has no special case: two empty normalizations are equal (EM 1) but share no token (F1 0).
        Assert.That(SquadMetrics.ExactMatch("", ["The"]), Is.EqualTo(1));
        Assert.That(SquadMetrics.F1("", ["The"]), Is.EqualTo(0));
    }

    [Test]
    public void NoGoldAnswersIsAnError()
    {
        Assert.Throws<FacadeException>(() => SquadMetrics.F1("x", []));
        var question = new SquadQuestion("q-none", "Why?", "Because.", []);
        var e = Assert.Throws<FacadeException>(() => SquadMetrics.Evaluate([question], new Dictionary<string, string> { ["q-none"] = "x" }));
        Assert.That(e!.Message, Does.Contain("q-none"));
    }

    [Test]
    public void EvaluateScoresMissingPredictionsAsZero()
    {
        SquadQuestion[] questions =
        [
            new("q1", "Who won?", "The Denver Broncos won.", [new SquadAnswer("Denver Broncos", 4)]),
            new("q2", "Where?", "In Santa Clara, California.", [new SquadAnswer("Santa Clara, California", 3), new SquadAnswer("Santa Clara", 3)]),
            new("q3", "When?", "In 2016.", [new SquadAnswer("2016", 3)]),
        ];
        var predictions = new Dictionary<string, string> { ["q1"] = "the Denver Broncos", ["q2"] = "Clara", ["other"] = "ignored" };
        SquadScore score = SquadMetrics.Evaluate(questions, predictions);
        // q1: EM 1, F1 1. q2: EM 0; F1 against "santa clara": P = 1/1, R = 1/2, F1 = 2/3 (vs 1/2 for the longer gold).
        // q3: no prediction, 0. EM = 100·1/3, F1 = 100·(1 + 2/3)/3.
        Assert.That(score.ExactMatch, Is.EqualTo(100.0 / 3).Within(1e-9));
        Assert.That(score.F1, Is.EqualTo(100.0 * (1 + 2.0 / 3) / 3).Within(1e-9));
        Assert.That(score.Questions, Is.EqualTo(3));
        Assert.That(score.Predicted, Is.EqualTo(2));
    }

    [Test]
    public void EvaluateOnDevBMatchesTheOfficialScript()
    {
        IReadOnlyList<SquadQuestion> questions = Squad.Load(TestData.Root, "dev-b");
        var gold = questions.ToDictionary(q => q.Id, q => q.Answers[0].Text);
        SquadScore perfect = SquadMetrics.Evaluate(questions, gold);
        Assert.That((perfect.ExactMatch, perfect.F1, perfect.Questions, perfect.Predicted), Is.EqualTo((100.0, 100.0, 5609, 5609)));

        // Question i (file order): i % 3 == 0 predicts the first half of its first answer's characters, i % 3 == 1 predicts
        // "The " + answer + "!", i % 3 == 2 predicts nothing. The official evaluate-v1.1.py gives, for the same predictions,
        // {'exact_match': 33.874130861116065, 'f1': 44.37337787781331}.
        var predictions = new Dictionary<string, string>();
        for (int i = 0; i < questions.Count; i++)
        {
            string answer = questions[i].Answers[0].Text;
            if (i % 3 == 0) predictions[questions[i].Id] = answer[..(answer.Length / 2)];
            else if (i % 3 == 1) predictions[questions[i].Id] = "The " + answer + "!";
        }
        SquadScore score = SquadMetrics.Evaluate(questions, predictions);
        Assert.That(score.ExactMatch, Is.EqualTo(33.874130861116065).Within(1e-9));
        Assert.That(score.F1, Is.EqualTo(44.37337787781331).Within(1e-9));
        Assert.That(score.Predicted, Is.EqualTo(3740));
    }
}
