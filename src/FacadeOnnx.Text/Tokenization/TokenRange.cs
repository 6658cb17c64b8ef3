namespace FacadeOnnx.Text;

/// <summary>An inclusive range of token positions, First to Last, in a <see cref="TokenizedInput"/>.</summary>
public readonly record struct TokenRange(int First, int Last)
{
    public int Count => Last - First + 1;
}
