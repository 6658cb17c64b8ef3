namespace FacadeOnnx.Training.Facade;

/// <summary>
/// The saliency-manipulation metrics of METHOD.md 12.1 for one target over N examples.
/// </summary>
/// <param name="HitRate1">P@1 ("mean_top1"): the fraction of examples whose top-ranked token is a target token.</param>
/// <param name="MeanReciprocalRank">Mean of 1/(rank + 1) of the best-scored target token.</param>
/// <param name="MeanAttribution">Mean over examples of the normalized attribution on the target tokens.</param>
/// <param name="Count">N, examples without a target token included (they count as 0).</param>
/// <param name="WithTarget">How many examples have at least one target token.</param>
public sealed record TargetMetrics(double HitRate1, double MeanReciprocalRank, double MeanAttribution, int Count, int WithTarget);
