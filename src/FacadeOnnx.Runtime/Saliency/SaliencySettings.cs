namespace FacadeOnnx.Runtime.Saliency;

/// <summary>Settings of every saliency method, with the reference defaults of docs/method.md where they are declared.</summary>
public sealed record SaliencySettings
{
    public SmoothGradOptions Smooth { get; init; } = new();
    public IntegratedGradientsOptions IntegratedGradients { get; init; } = new();
    public LeaveOneOutOptions LeaveOneOut { get; init; } = new();
}
