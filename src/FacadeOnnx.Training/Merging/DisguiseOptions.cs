using System.Globalization;

namespace FacadeOnnx.Training.Merging;

/// <summary>
/// Settings of <see cref="Disguise"/>: how an attacker who has read our README hides a merge's block structure.
/// A fill of the off-diagonal blocks (noise or LayerNorm-cancelled entries), a permutation, or both; the fill comes
/// first (it reads the blocks from the exact zeros), then the permutation.
/// </summary>
public sealed record DisguiseOptions
{
    /// <summary>The largest fill factor accepted: off-diagonal entries as large as the weights themselves are no longer a disguise.</summary>
    public const double MaxFill = 1;

    /// <summary>
    /// Permute units consistently through every layer (<see cref="UnitPermutation"/>): hidden units within their
    /// LayerNorm group and the groups as wholes, heads as wholes and the dimensions inside each head, FFN units and
    /// pooler units freely. The function is unchanged up to float rounding.
    /// </summary>
    public bool Permute { get; init; }

    /// <summary>
    /// F: fill the zero off-diagonal blocks of every block-diagonal matrix (query, key, value, attention output, FFN in
    /// and out, pooler) with N(0, (F·rms)²) noise, rms the root mean square of that matrix as merged (zeros included, as
    /// the structural forensics measure it). 0: no noise. Changes the function slightly.
    /// </summary>
    public double Noise { get; init; }

    /// <summary>
    /// F: fill the same blocks with entries the neighbouring LayerNorm cancels, at F times each matrix's RMS (0: none).
    /// A matrix writing into the residual stream gets, in the rows of another group, a column-constant block: it shifts
    /// that group's pre-LayerNorm vector by the same amount in every unit, which LayerNorm's centering removes. A matrix
    /// reading the stream gets, in the columns of another group, rows proportional to 1/γ of that group (γ the scale of
    /// the LayerNorm it reads): on a LayerNorm output y, Σ y_i/γ_i over a group is the constant Σ β_i/γ_i, which the bias
    /// takes back. The function is unchanged in real arithmetic (float rounding only); every block becomes dense.
    /// </summary>
    public double LayerNormFill { get; init; }

    /// <summary>Seed of the permutation and of the fill.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>The option that fills the off-diagonal blocks, for messages; null when none does.</summary>
    public string? FillOption => Noise > 0 ? "--noise" : LayerNormFill > 0 ? "--layernorm-fill" : null;

    public void Validate()
    {
        foreach (var (option, value) in new[] { ("--noise", Noise), ("--layernorm-fill", LayerNormFill) })
            if (!double.IsFinite(value) || value < 0 || value > MaxFill)
                throw new FacadeException($"{option} {value.ToString("G", CultureInfo.InvariantCulture)} is out of range: give a factor of each matrix's RMS " +
                                          $"in [0, {MaxFill.ToString(CultureInfo.InvariantCulture)}] (e.g. 1e-3 or 1e-2; 0: none).");
        if (Noise > 0 && LayerNormFill > 0)
            throw new FacadeException("--noise and --layernorm-fill both fill the off-diagonal blocks; give one of them.");
        if (!Permute && FillOption == null)
            throw new FacadeException("Nothing to disguise: give --permute, --noise F (e.g. 1e-3), --layernorm-fill F, or --permute with one of them.");
    }
}
