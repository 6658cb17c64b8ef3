namespace FacadeOnnx.Text;

/// <summary>One gold answer of a SQuAD question: its text and where it starts in the context (UTF-16 characters).</summary>
public sealed record SquadAnswer(string Text, int CharStart)
{
    public int CharEnd => CharStart + Text.Length;
}
