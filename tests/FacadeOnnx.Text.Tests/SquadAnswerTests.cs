using FacadeOnnx.Text;

namespace FacadeOnnx.Text.Tests;

public class SquadAnswerTests
{
    [Test]
    public void AnswerTokenRangeCoversTheAnswerText()
    {
        var questions = TestData.EveryNth(Squad.Load(TestData.Root, "dev-b"), 10).ToArray();
        int mapped = 0, detokenized = 0;
        foreach (SquadQuestion q in questions)
        {
            TokenizedInput input = Squad.Encode(TestData.Tokenizer, q, maxLength: 512);
            foreach (SquadAnswer answer in q.Answers)
            {
                TokenRange? found = Squad.AnswerTokens(input, answer);
                if (found == null)
                {
                    Assert.That(input.Truncated, $"{q.Id}: only truncation may lose an answer");
                    continue;
                }
                TokenRange range = found.Value;
                TokenSpan first = input.Spans[range.First], last = input.Spans[range.Last];
                Assert.That(first.Segment, Is.EqualTo(1));
                Assert.That(last.Segment, Is.EqualTo(1));
                Assert.That(first.End, Is.GreaterThan(answer.CharStart), "the first token reaches into the answer");
                if (first.Start > answer.CharStart)
                    Assert.That(q.Context[answer.CharStart..first.Start], Is.Empty.Or.Matches<string>(string.IsNullOrWhiteSpace),
                        "only whitespace of the answer precedes its first token");
                string covered = q.Context[first.Start..last.End];
                Assert.That(covered, Does.Contain(answer.Text.Trim()).IgnoreCase, $"{q.Id}: tokens {range} cover '{covered}'");
                Assert.That(range.Count, Is.LessThanOrEqualTo(answer.Text.Length + 2), "the range is tight, not the whole context");
                mapped++;

                // Detokenized: the pieces without "##" and spaces spell the answer (lower-cased) when no [UNK] is involved.
                string[] tokens = input.Tokens[range.First..(range.Last + 1)];
                string answerLetters = new(answer.Text.ToLowerInvariant().Where(c => !char.IsWhiteSpace(c)).ToArray());
                if (!tokens.Contains("[UNK]") && answer.Text.All(char.IsAscii))
                {
                    string spelled = string.Concat(tokens.Select(t => t.StartsWith("##") ? t[2..] : t));
                    Assert.That(spelled, Does.Contain(answerLetters), q.Id);
                    detokenized++;
                }
            }
        }
        Assert.That(mapped, Is.GreaterThan(1000));
        Assert.That(detokenized, Is.GreaterThan(800));
    }

    [Test]
    public void AnswerCutByTruncationMapsToNothing()
    {
        SquadQuestion q = Squad.Load(TestData.Root, "dev-a").First(q => q.Answers[0].CharStart > 400);
        TokenizedInput cut = Squad.Encode(TestData.Tokenizer, q, maxLength: 48);
        Assert.That(cut.Truncated);
        Assert.That(Squad.AnswerTokens(cut, q.Answers[0]), Is.Null);
    }

    [Test]
    public void AnswerOfTheFirstQuestionMapsToItsWords()
    {
        SquadQuestion q = Squad.Load(TestData.Root, "dev-a")[0];
        TokenizedInput input = Squad.Encode(TestData.Tokenizer, q);
        TokenRange range = Squad.AnswerTokens(input, q.Answers[0])!.Value;
        string text = q.Context[input.Spans[range.First].Start..input.Spans[range.Last].End];
        Assert.That(text, Is.EqualTo(q.Answers[0].Text));
    }
}
