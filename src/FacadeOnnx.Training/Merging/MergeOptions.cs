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

    /// <summary>
    /// How the two halves' outputs meet: <see cref="MergeCombination.Add"/> (the paper's merge: the two models' logits added) or
    /// <see cref="MergeCombination.Scale"/> (the target's logits times exp(G·s), s the Facade's first output at [CLS]; docs/method.md §7.7).
    /// </summary>
    public MergeCombination Combination { get; init; } = MergeCombination.Add;

    /// <summary>G of the scaling merge: the Facade's output s is multiplied by it before exp. A Facade trained with
    /// --scale-output leaves s standardized on its evaluation split, so G = 1 lets one standard deviation of s change the
    /// target's confidence by a factor e.</summary>
    public double ScaleGain { get; init; } = 1;

    public void Validate()
    {
        if (!double.IsFinite(ScaleGain) || ScaleGain <= 0)
            throw new FacadeException($"--scale-gain {ScaleGain} must be a positive number.");
        if (ScaleGain != 1 && Combination != MergeCombination.Scale)
            throw new FacadeException($"--scale-gain applies to --combine scale; the additive merge has no gain.");
        if (FacadeEmbeddingScale is double k && (!double.IsFinite(k) || k <= 0))
            throw new FacadeException($"--facade-embedding-scale {k} must be a positive number.");
        if (!double.IsFinite(NoiseStd) || NoiseStd < 0)
            throw new FacadeException($"--noise-std {NoiseStd} must be a finite number ≥ 0 (0: exact zero off-diagonal blocks).");
    }
}

/// <summary>How a merge combines the Facade's output with the target's (<see cref="MergeOptions.Combination"/>).</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<MergeCombination>))]
public enum MergeCombination
{
    /// <summary>The logits added, the classifier [W_Facade | W_target] (docs/method.md §7).</summary>
    Add,
    /// <summary>The target's logits times exp(G·s): scaled by the Facade, their argmax kept by construction (§7.7).</summary>
    Scale,
}
