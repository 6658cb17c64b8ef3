namespace FacadeOnnx.Training.Facade;

/// <summary>One line of an <see cref="EffectReport"/>: a model, a saliency method, a target and its METHOD.md 12.1 metrics.</summary>
public sealed record EffectRow(string Model, string Method, string Target, double HitRate1, double MeanReciprocalRank, double MeanAttribution, int Count, int WithTarget);
