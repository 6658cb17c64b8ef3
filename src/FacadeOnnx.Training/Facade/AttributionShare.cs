using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Facade;

/// <summary>
/// The token saliency arithmetic of docs/method.md 5.1 and 9, in one place for the Facade loss (on tensors that carry a
/// graph, for double backpropagation) and for every evaluation (on detached tensors):
/// <list type="bullet">
/// <item>raw saliency, grad x input summed over the embedding dimension: <c>s[i,t] = Σ_d G[i,t,d] · e[i,t,d]</c>;</item>
/// <item>L1 normalization over the padded row, sign kept: <c>ŝ[i,t] = s[i,t] / (Σ_t' |s[i,t']| + ε)</c>;</item>
/// <item>the share of attribution on target positions: <c>Σ_{t∈T_i} |ŝ[i,t]|</c>.</item>
/// </list>
/// Padding positions have an exactly zero gradient, so they add nothing to the sums.
/// </summary>
public static class AttributionShare
{
    /// <summary>
    /// Added to the L1 norm of a row before dividing. A row whose saliency is exactly zero everywhere (an untrained
    /// model whose gradient underflows, or a row that is all padding) then gets ŝ = 0 instead of NaN. Real rows have
    /// norms many orders of magnitude larger (the smallest measured on SST-2 dev, logged as dev_min_saliency_l1, was
    /// about 3e-3, for a Facade trained without the magnitude term), so the shift is invisible.
    /// </summary>
    public const double Epsilon = 1e-20;

    /// <summary>Raw saliency [batch, sequence] from a gradient and the embeddings it multiplies ([batch, sequence, hidden]).</summary>
    public static Tensor TokenSaliency(Tensor gradient, Tensor embeddings) => (gradient * embeddings).sum(-1);

    /// <summary>Row-wise L1 normalization of raw saliency [batch, sequence], keeping the sign.</summary>
    public static Tensor Normalize(Tensor saliency) => saliency / saliency.abs().sum(-1, keepdim: true).Plus(Epsilon);

    /// <summary>Per row, the attribution share on the positions where <paramref name="targetMask"/> (float [batch, sequence]) is 1.</summary>
    public static Tensor Share(Tensor normalized, Tensor targetMask) => (normalized.abs() * targetMask).sum(-1);
}
