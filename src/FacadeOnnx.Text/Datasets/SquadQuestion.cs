namespace FacadeOnnx.Text;

/// <summary>One SQuAD v1.1 question with its context paragraph and gold answers (dev questions have up to five).</summary>
public sealed record SquadQuestion(string Id, string Question, string Context, IReadOnlyList<SquadAnswer> Answers);
