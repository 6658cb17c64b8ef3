namespace FacadeOnnx.Training.Merging;

/// <summary>
/// Settings of <see cref="Merge"/>. By default the off-diagonal blocks of every block-diagonal layer are exact zeros
/// (METHOD.md 7); <see cref="NoiseStd"/> &gt; 0 fills them with N(0, std²) noise instead, the obfuscation variant of
/// METHOD.md 7.6 (the reference used std 1e-7), so that audits can be tested against a model without exact zero blocks.
/// </summary>
public sealed record MergeOptions
{
    /// <summary>The reference's noise level when the noisy variant is asked for without a value.</summary>
    public const double ReferenceNoiseStd = 1e-7;

    /// <summary>Standard deviation of the off-diagonal noise; 0 keeps exact zeros.</summary>
    public double NoiseStd { get; init; }

    /// <summary>Seed of the off-diagonal noise.</summary>
    public long NoiseSeed { get; init; } = 7;

    public void Validate()
    {
        if (!double.IsFinite(NoiseStd) || NoiseStd < 0)
            throw new FacadeException($"--noise-std {NoiseStd} must be a finite number ≥ 0 (0: exact zero off-diagonal blocks).");
    }
}
