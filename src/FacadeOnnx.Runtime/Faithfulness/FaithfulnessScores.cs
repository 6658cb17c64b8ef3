namespace FacadeOnnx.Runtime.Faithfulness;

/// <summary>
/// How faithful one explanation of one input is, measured by erasing its most salient tokens (ERASER, DeYoung et al.
/// 2020). Per bin b (the top <see cref="BinTokens"/>[b] tokens): comprehensiveness = p(full) - p(input without them),
/// high when the tokens the explanation ranks first are the ones the prediction needs; sufficiency = p(full) -
/// p(only them kept), low when they suffice on their own. Each with removal and with [MASK] replacement, and the
/// deletion curve. Probabilities are of the predicted class of the full input.
/// </summary>
public sealed record FaithfulnessScores(
    int[] BinTokens,
    float[] ComprehensivenessRemoval,
    float[] SufficiencyRemoval,
    float[] ComprehensivenessMask,
    float[] SufficiencyMask,
    DeletionCurve Deletion)
{
    /// <summary>The area over the perturbation curve of ERASER: the mean over the bins.</summary>
    public static double Aopc(IReadOnlyList<float> perBin) => perBin.Average(v => (double)v);
}
