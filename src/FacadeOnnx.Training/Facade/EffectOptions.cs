namespace FacadeOnnx.Training.Facade;

/// <summary>What <see cref="FacadeEffect"/> measures: which saliency methods, with which settings, on how many inputs.</summary>
public sealed record EffectOptions
{
    public IReadOnlyList<SaliencyMethod> Methods { get; init; } =
        [SaliencyMethod.SimpleGradient, SaliencyMethod.SmoothGrad, SaliencyMethod.IntegratedGradients];
    public SaliencyOptions Saliency { get; init; } = new();
    /// <summary>Measure on only the first N evaluation inputs (null: all).</summary>
    public int? Limit { get; init; }
}
