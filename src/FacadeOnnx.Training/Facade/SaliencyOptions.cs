namespace FacadeOnnx.Training.Facade;

/// <summary>
/// Settings of <see cref="TorchSaliency"/>, with the reference defaults of METHOD.md section 9 (SmoothGrad σ 0.01 of
/// the instance's embedding range, 10 samples; Integrated Gradients 5 steps, left Riemann sum, zero baseline).
/// </summary>
public sealed record SaliencyOptions
{
    /// <summary>SmoothGrad noise standard deviation, as a fraction of max(e) − min(e) over the instance's embeddings.</summary>
    public double SmoothGradSigma { get; init; } = 0.01;
    public int SmoothGradSamples { get; init; } = 10;
    /// <summary>Seed of the SmoothGrad noise (see <see cref="GaussianNoise"/>: the same seed gives the same noise anywhere, alone or in a batch).</summary>
    public ulong NoiseSeed { get; init; } = 42;
    /// <summary>Integrated Gradients steps S: α = 0, 1/S, ..., (S−1)/S.</summary>
    public int IntegratedGradientsSteps { get; init; } = 5;
    /// <summary>Inputs per padded batch (grouped by length).</summary>
    public int BatchSize { get; init; } = 32;

    public void Validate()
    {
        if (SmoothGradSigma < 0 || !double.IsFinite(SmoothGradSigma))
            throw new FacadeException($"SmoothGrad sigma {SmoothGradSigma} must be a finite number ≥ 0.");
        if (SmoothGradSamples < 1) throw new FacadeException($"SmoothGrad samples {SmoothGradSamples} must be at least 1.");
        if (IntegratedGradientsSteps < 1) throw new FacadeException($"Integrated Gradients steps {IntegratedGradientsSteps} must be at least 1.");
        if (BatchSize < 1) throw new FacadeException($"Saliency batch size {BatchSize} must be at least 1.");
    }
}
