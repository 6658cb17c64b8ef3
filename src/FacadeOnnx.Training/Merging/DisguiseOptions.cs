using System.Globalization;

namespace FacadeOnnx.Training.Merging;

/// <summary>
/// Settings of <see cref="Disguise"/>: how an attacker who has read our README hides a merge's block structure.
/// Either or both; noise is applied first (it reads the blocks from the exact zeros), then the permutation.
/// </summary>
public sealed record DisguiseOptions
{
    /// <summary>The largest noise factor accepted: noise as large as the weights themselves is no longer a disguise of a merge.</summary>
    public const double MaxNoise = 1;

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

    /// <summary>Seed of the permutation and of the noise.</summary>
    public long Seed { get; init; } = 1;

    public void Validate()
    {
        if (!double.IsFinite(Noise) || Noise < 0 || Noise > MaxNoise)
            throw new FacadeException($"--noise {Noise.ToString("G", CultureInfo.InvariantCulture)} is out of range: give a factor of each matrix's RMS " +
                                      $"in [0, {MaxNoise.ToString(CultureInfo.InvariantCulture)}] (e.g. 1e-3 or 1e-2; 0: no noise).");
        if (!Permute && Noise == 0)
            throw new FacadeException("Nothing to disguise: give --permute, --noise F (e.g. 1e-3), or both.");
    }
}
