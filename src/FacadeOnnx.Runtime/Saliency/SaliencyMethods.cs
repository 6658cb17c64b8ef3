namespace FacadeOnnx.Runtime.Saliency;

/// <summary>Settings of every saliency method, with the reference defaults of METHOD.md where they are declared.</summary>
public sealed record SaliencySettings
{
    public SimpleGradientOptions Simple { get; init; } = new();
    public SmoothGradOptions Smooth { get; init; } = new();
    public IntegratedGradientsOptions IntegratedGradients { get; init; } = new();
    public LeaveOneOutOptions LeaveOneOut { get; init; } = new();
}

/// <summary>The saliency methods by their command-line names.</summary>
public static class SaliencyMethods
{
    public static IReadOnlyList<string> Names { get; } = ["simple", "smooth", "ig", "loo"];

    public static ISaliencyMethod Create(string name, SaliencySettings? settings = null)
    {
        settings ??= new SaliencySettings();
        return name.Trim().ToLowerInvariant() switch
        {
            "simple" or "gradient" => new SimpleGradient(settings.Simple),
            "simple_norm" => new SimpleGradient(settings.Simple with { Reduction = GradientReduction.GradientNorm }),
            "smooth" or "smoothgrad" => new SmoothGrad(settings.Smooth),
            "ig" or "integrated" => new IntegratedGradients(settings.IntegratedGradients),
            "loo" or "leave-one-out" => new LeaveOneOut(settings.LeaveOneOut),
            _ => throw new FacadeException($"Unknown saliency method '{name}'; known methods: {string.Join(", ", Names)}, simple_norm (or all)."),
        };
    }

    /// <summary>"all" or a comma-separated list of names.</summary>
    public static IReadOnlyList<ISaliencyMethod> Parse(string spec, SaliencySettings? settings = null) =>
        (spec.Trim().ToLowerInvariant() == "all" ? Names : spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(n => Create(n, settings)).ToArray();
}
