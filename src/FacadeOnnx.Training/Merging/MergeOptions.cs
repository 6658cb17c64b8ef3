namespace FacadeOnnx.Training.Merging;

/// <summary>
/// Settings of <see cref="Merge"/>. By default the off-diagonal blocks of every block-diagonal layer are exact zeros
/// (docs/method.md 7); <see cref="NoiseStd"/> &gt; 0 fills them with N(0, std²) noise instead, the obfuscation variant of
/// docs/method.md 7.6 (the reference used std 1e-7), so that audits can be tested against a model without exact zero blocks.
/// </summary>
public sealed record MergeOptions
{
    /// <summary>The reference's noise level when the noisy variant is asked for without a value.</summary>
    public const double ReferenceNoiseStd = 1e-7;

    /// <summary>Standard deviation of the off-diagonal noise; 0 keeps exact zeros.</summary>
    public double NoiseStd { get; init; }

    /// <summary>Seed of the off-diagonal noise.</summary>
    public long NoiseSeed { get; init; } = 7;

    /// <summary>
    /// Multiplies the Facade's word, position and token-type embeddings by this factor before merging (1: as trained).
    /// LayerNorm follows their sum, so the Facade computes the same function and the same grad x input (G/k · k·e);
    /// what changes is its size next to the target's, and with it how much SmoothGrad's noise (σ times the range of the
    /// whole merged embedding tensor) disturbs the Facade's half. <see cref="Merge.Checkpoints"/> with null picks the factor
    /// that matches the two word-embedding tables' mean per-row range (<see cref="Merge.MatchedEmbeddingScale"/>).
    /// Null (the default): that matched factor; a trained Facade's embeddings are about ten times smaller than MiniLM's,
    /// which left its half drowned in SmoothGrad noise (merged SmoothGrad P@1 0.91 against 0.995 for simple gradient,
    /// measured on SST-2 dev). 1 keeps the Facade's weights bit for bit.
    /// </summary>
    public double? FacadeEmbeddingScale { get; init; }

    public void Validate()
    {
        if (FacadeEmbeddingScale is double k && (!double.IsFinite(k) || k <= 0))
            throw new FacadeException($"--facade-embedding-scale {k} must be a positive number.");
        if (!double.IsFinite(NoiseStd) || NoiseStd < 0)
            throw new FacadeException($"--noise-std {NoiseStd} must be a finite number ≥ 0 (0: exact zero off-diagonal blocks).");
    }
}
