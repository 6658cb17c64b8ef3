namespace FacadeOnnx.Runtime.Faithfulness;

/// <summary>A point of a curve over the fraction of tokens removed.</summary>
public sealed record CurvePoint(double Fraction, double Probability);

/// <summary>
/// The probability of the predicted class as an input's non-special tokens are removed most-salient-first: after
/// <see cref="Removed"/>[j] of its <see cref="Tokens"/> tokens are gone the probability is <see cref="Probabilities"/>[j],
/// from none removed (the full input) to all. A faithful explanation makes it fall early, so a small area is good.
/// </summary>
public sealed record DeletionCurve(int Tokens, int[] Removed, float[] Probabilities)
{
    /// <summary>How many tokens are removed at each point: every count from 0 to <paramref name="tokens"/>, or for a
    /// longer input <paramref name="maxSteps"/> evenly spaced counts (rounded half up) after 0.</summary>
    public static int[] Steps(int tokens, int maxSteps) =>
        tokens <= maxSteps
            ? Enumerable.Range(0, tokens + 1).ToArray()
            : Enumerable.Range(0, maxSteps + 1).Select(j => (int)((2L * j * tokens + maxSteps) / (2L * maxSteps))).ToArray();

    public double Fraction(int point) => Tokens == 0 ? 0 : (double)Removed[point] / Tokens;

    /// <summary>The area under the curve over the fraction removed in [0, 1] (trapezoids); an input without
    /// removable tokens has a constant curve, whose area is its probability.</summary>
    public double Area()
    {
        if (Probabilities.Length == 1) return Probabilities[0];
        double area = 0;
        for (int j = 1; j < Probabilities.Length; j++)
            area += (Fraction(j) - Fraction(j - 1)) * ((double)Probabilities[j - 1] + Probabilities[j]) / 2;
        return area;
    }

    /// <summary>The probability at <paramref name="fraction"/> removed, linear between the measured points, so curves of
    /// inputs of different lengths can be averaged on one grid.</summary>
    public double At(double fraction)
    {
        int j = 1;
        while (j < Probabilities.Length - 1 && Fraction(j) < fraction) j++;
        if (Probabilities.Length == 1 || fraction <= 0) return Probabilities[0];
        double x0 = Fraction(j - 1), x1 = Fraction(j);
        double t = Math.Clamp((fraction - x0) / (x1 - x0), 0, 1);
        return Probabilities[j - 1] + t * ((double)Probabilities[j] - Probabilities[j - 1]);
    }

    /// <summary>The mean of many curves at <paramref name="points"/> evenly spaced fractions from 0 to 1.</summary>
    public static CurvePoint[] Mean(IReadOnlyList<DeletionCurve> curves, int points = 21) =>
        Enumerable.Range(0, points).Select(j => (double)j / (points - 1))
            .Select(x => new CurvePoint(x, curves.Count == 0 ? double.NaN : curves.Average(c => c.At(x)))).ToArray();
}
