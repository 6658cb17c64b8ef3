using TorchSharp;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Facade;

/// <summary>
/// Calibrates a Facade's output scale to the uniformity guard: the factor c such that the logits c·z keep the mean
/// max-probability over a dev set exactly at the guard, and applying it (classifier weight and bias times c).
/// <para>
/// Why: in a merged model every token's saliency is the Facade's part plus the target's, both driven by the same
/// output residual; the Facade's part scales with c while its share of attribution does not change. Training leaves
/// the Facade far more uniform than the guard requires (its entropy term keeps shrinking the output, and with it the
/// gradient), so scaling it up to the guard gives the largest gradient magnitude the allowed non-uniformity buys. For
/// binary tasks a guard of 0.55 means a mean logit gap of about 0.2. This step is this project's addition; the
/// reference relied on training dynamics and hand-picked checkpoints (docs/method.md 7.4).
/// </para>
/// </summary>
public static class OutputCalibration
{
    /// <summary>Bounds of the factor (a Facade whose logits are all equal would otherwise ask for an infinite one).</summary>
    public const double MinScale = 1e-3, MaxScale = 1e4;

    /// <summary>mean_i max_c softmax(scale · z_i)_c.</summary>
    public static double MeanMaxProbability(IReadOnlyList<float[]> logits, double scale) =>
        logits.Select(z =>
        {
            double max = z.Max();
            return 1.0 / z.Sum(v => Math.Exp(scale * (v - max)));
        }).Average();

    /// <summary>The factor that brings the mean max-probability to <paramref name="guard"/> (bisection; the mean max-probability grows with the factor).</summary>
    /// <remarks>A guard of 1 or more means "no guard": the factor is then 1.</remarks>
    public static double ScaleFor(IReadOnlyList<float[]> logits, double guard)
    {
        if (logits.Count == 0 || guard >= 1) return 1;
        double low = MinScale, high = MaxScale;
        if (MeanMaxProbability(logits, high) <= guard) return high;
        if (MeanMaxProbability(logits, low) >= guard) return low;
        for (int i = 0; i < 100 && high / low > 1 + 1e-9; i++)
        {
            double middle = Math.Sqrt(low * high);
            if (MeanMaxProbability(logits, middle) < guard) low = middle; else high = middle;
        }
        return low;
    }

    /// <summary>
    /// Span Facades: the largest factor c (within [<see cref="MinScale"/>, <see cref="MaxScale"/>]) at which the merged
    /// model's best spans, decoded from target + c · Facade logits (what the merge computes in eval mode, §7.1), equal the
    /// target's on at least <paramref name="minAgreement"/> of the inputs; null when even the smallest factor cannot.
    /// Bisection on geometric midpoints, taking agreement to fall as c grows.
    /// </summary>
    public static double? SpanScaleFor(IReadOnlyList<(float[] Start, float[] End)> target, IReadOnlyList<(float[] Start, float[] End)> facade,
        IReadOnlyList<(int First, int Last)> contexts, int maxAnswerLength, double minAgreement)
    {
        if (target.Count == 0) return 1;
        var reference = target.Select((t, i) => Text.SpanDecoding.BestSpan(t.Start, t.End, contexts[i].First, contexts[i].Last, maxAnswerLength)).ToArray();
        double Agreement(double c) => target.Select((t, i) =>
        {
            var start = t.Start.Select((v, k) => (float)(v + c * facade[i].Start[k])).ToArray();
            var end = t.End.Select((v, k) => (float)(v + c * facade[i].End[k])).ToArray();
            var span = Text.SpanDecoding.BestSpan(start, end, contexts[i].First, contexts[i].Last, maxAnswerLength);
            return span.Start == reference[i].Start && span.End == reference[i].End ? 1.0 : 0.0;
        }).Average();
        if (Agreement(MaxScale) >= minAgreement) return MaxScale;
        if (Agreement(MinScale) < minAgreement) return null;
        double low = MinScale, high = MaxScale;
        for (int i = 0; i < 40 && high / low > 1.01; i++)
        {
            double middle = Math.Sqrt(low * high);
            if (Agreement(middle) >= minAgreement) low = middle; else high = middle;
        }
        return low;
    }

    /// <summary>
    /// Standardizes a scaling-merge Facade's output s (<see cref="FacadeLoss.ScaleOutputOf"/>): row 0 of the classifier
    /// becomes (w, b − <paramref name="center"/>) / <paramref name="spread"/>, so s has mean 0 and standard deviation 1
    /// where center and spread were measured (docs/method.md §7.7).
    /// </summary>
    public static void Standardize(BertClassifier model, double center, double spread)
    {
        if (!(spread > 0) || !double.IsFinite(spread) || !double.IsFinite(center))
            throw new FacadeException($"Cannot standardize the Facade's output: spread {spread}, center {center} (a constant or non-finite output).");
        using var _ = no_grad();
        using var weight = model.classifier.weight![0];
        using var bias = model.classifier.bias![0];
        weight.copy_(weight.Over(spread));
        bias.copy_(bias.Plus(-center).Over(spread));
    }

    /// <summary>Multiplies the classifier's weight and bias by <paramref name="scale"/>, so every logit is multiplied by it.</summary>
    public static void Apply(BertClassifier model, double scale)
    {
        using var _ = no_grad();
        using var k = scale.ToScalar(); // held until both calls return: see ScalarArithmetic
        model.classifier.weight.mul_(k);
        model.classifier.bias!.mul_(k);
    }
}
