using TorchSharp;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Model;

/// <summary>
/// Tensor-with-number arithmetic that keeps the TorchSharp <see cref="Scalar"/> alive until the native call returns.
/// TorchSharp's implicit number-to-Scalar conversions leave the Scalar to its finalizer, and its operators drop the last
/// managed reference once they have read the handle, so a garbage collection during the native call can free the
/// Scalar while libtorch still reads it (seen in CI as "Expected false to be true" from c10 Scalar::toDouble). Our
/// code therefore never writes <c>tensor * 0.5</c> or <c>clamp_min(1)</c>: it writes <c>tensor.Times(0.5)</c>.
/// Tensor + tensor has the same hazard (TorchSharp's <c>add(other)</c> passes an implicit alpha of 1; seen once after
/// hours of SmoothGrad through TorchSharp): loops that add thousands of times use <see cref="Plus(Tensor, Tensor)"/> and
/// <see cref="Accumulate"/>.
/// </summary>
public static class ScalarArithmetic
{
    public static Tensor Times(this Tensor t, double k) => Held(k.ToScalar(), t.mul);

    public static Tensor Plus(this Tensor t, double k) => Held(k.ToScalar(), t.add);

    /// <summary>An integer keeps an integer tensor integral (a double would promote it to floating point).</summary>
    public static Tensor Plus(this Tensor t, long k) => Held(k.ToScalar(), t.add);

    /// <summary>t + other with the alpha Scalar held.</summary>
    public static Tensor Plus(this Tensor t, Tensor other) => Held(1.0.ToScalar(), alpha => t.add(other, alpha));

    /// <summary>In place: sum += addend, with the alpha Scalar held.</summary>
    public static Tensor Accumulate(this Tensor sum, Tensor addend) => Held(1.0.ToScalar(), alpha => sum.add_(addend, alpha));

    public static Tensor Over(this Tensor t, double k) => Held(k.ToScalar(), s => t.div(s));

    /// <summary>k − t (the attention mask's 1 − mask).</summary>
    public static Tensor SubtractedFrom(this Tensor t, double k) => t.neg().Plus(k);

    public static Tensor Power(this Tensor t, double k) => Held(k.ToScalar(), t.pow);

    public static Tensor AtLeast(this Tensor t, double k) => Held(k.ToScalar(), t.clamp_min);

    public static Tensor GreaterThan(this Tensor t, double k) => Held(k.ToScalar(), t.gt);

    public static Tensor FilledWhere(this Tensor t, Tensor mask, double k) => Held(k.ToScalar(), s => t.masked_fill(mask, s));

    /// <summary>In place: every element set to <paramref name="k"/>.</summary>
    public static Tensor Fill(this Tensor t, double k) => Held(k.ToScalar(), t.fill_);

    /// <summary>0, 1, …, n − 1 as int64.</summary>
    public static Tensor Range(long n, Device device) => Held(n.ToScalar(), stop => arange(stop, dtype: int64, device: device));

    /// <summary>Runs <paramref name="operation"/> on <paramref name="scalar"/> and frees the Scalar only after it returns.</summary>
    static Tensor Held(Scalar scalar, Func<Scalar, Tensor> operation)
    {
        using (scalar) return operation(scalar);
    }
}
