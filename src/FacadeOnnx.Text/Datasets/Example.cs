namespace FacadeOnnx.Text;

/// <summary>One labelled input: a sentence (SST-2), or a premise and hypothesis (SNLI, <see cref="Pair"/> set).</summary>
public sealed record Example(string Text, string? Pair, int Label);
