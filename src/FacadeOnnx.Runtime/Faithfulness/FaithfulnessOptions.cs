namespace FacadeOnnx.Runtime.Faithfulness;

/// <summary>
/// Settings of the faithfulness measures (docs/design.md section 8): ERASER's bins (DeYoung et al. 2020) as
/// percentages of an input's non-special tokens, and how many removal steps a deletion curve may take.
/// </summary>
public sealed record FaithfulnessOptions
{
    /// <summary>The top 1, 5, 10, 20 and 50% of tokens. Whole percentages, so that the token count of a bin is exact
    /// integer arithmetic (ceil(0.1 x 30) in floating point is 4).</summary>
    public int[] BinPercents { get; init; } = [1, 5, 10, 20, 50];

    /// <summary>A deletion curve has one point per removed token up to this many tokens; a longer input gets this many
    /// evenly spaced steps instead (plus the full input), so the cost per input stays bounded.</summary>
    public int MaxDeletionSteps { get; init; } = 20;

    /// <summary>One line for report.json's settings.</summary>
    public string Describe() =>
        $"AOPC over the top {string.Join(", ", BinPercents)}% of tokens, removal and [MASK]; deletion curve by removal, at most {MaxDeletionSteps} steps";

    internal void Validate()
    {
        if (BinPercents.Length == 0 || BinPercents.Any(p => p is < 1 or > 100))
            throw new FacadeException($"Faithfulness bins are whole percentages from 1 to 100 (got {string.Join(", ", BinPercents)}).");
        if (MaxDeletionSteps < 1) throw new FacadeException($"A deletion curve needs at least one step (got {MaxDeletionSteps}).");
    }
}
