using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Saliency;

/// <summary>
/// One method's explanation of one input: a raw score per word piece (specials included, as the paper scores them),
/// the normalized scores |a| / sum |a| that every metric uses, the prediction whose label is explained, and
/// method-specific diagnostics (IG's completeness, SmoothGrad's noise scale, ...). The engine's methods and the
/// TorchSharp reference both produce these.
/// </summary>
public sealed record SaliencyMap(
    string Method,
    TokenizedInput Input,
    Prediction Prediction,
    float[] Raw,
    float[] Normalized,
    IReadOnlyDictionary<string, double> Diagnostics)
{
    public string[] Tokens => Input.Tokens;
    public int Label => Prediction.Label;
    public float Probability => Prediction.Probability;

    /// <summary>Token positions from most to least salient (stable: ties keep position order), docs/method.md 12.1.</summary>
    public int[] Ranking() => Enumerable.Range(0, Normalized.Length).OrderByDescending(i => Normalized[i]).ThenBy(i => i).ToArray();

    /// <summary>0-based rank of position <paramref name="position"/> in <see cref="Ranking"/>.</summary>
    public int RankOf(int position) => Array.IndexOf(Ranking(), position);
}
