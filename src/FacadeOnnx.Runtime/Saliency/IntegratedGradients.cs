using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Saliency;

/// <summary>How the path integral from the baseline to the input is approximated.</summary>
public enum IntegrationRule
{
    /// <summary>alpha = k/S for k = 0..S-1, weights 1/S: the reference implementation (endpoint excluded).</summary>
    LeftRiemann,
    /// <summary>alpha = k/S for k = 0..S, end weights 1/(2S): second order, one more sample.</summary>
    Trapezoid,
    /// <summary>S Gauss-Legendre nodes on [0, 1]: exact for polynomials of degree 2S-1.</summary>
    GaussLegendre,
}

/// <summary>Reference defaults of docs/method.md section 9: 5 steps, left Riemann sum, zero word-embedding baseline.</summary>
public sealed record IntegratedGradientsOptions
{
    /// <summary>Steps of the rule; with a <see cref="Tolerance"/>, the steps every input starts with.</summary>
    public int Steps { get; init; } = 5;
    public IntegrationRule Rule { get; init; } = IntegrationRule.LeftRiemann;
    /// <summary>Adaptive mode when set: an input's steps double while its relative completeness gap is above this
    /// (see <see cref="AdaptiveIntegration"/>). Null: every input gets <see cref="Steps"/>.</summary>
    public double? Tolerance { get; init; }
    /// <summary>The most steps adaptive mode gives one input.</summary>
    public int MaxSteps { get; init; } = 256;
}

/// <summary>
/// Integrated Gradients (Sundararajan et al. 2017) from a zero word-embedding baseline (position and type embeddings
/// and LayerNorm still apply, as in the paper's code). Reports completeness: the attributions should sum to the loss
/// difference L(input) - L(baseline); the relative gap says how far the chosen rule and step count are from that.
/// </summary>
[Analysis("ig", "Integrated Gradients", Aliases = ["integrated"])]
public sealed class IntegratedGradients : SampledGradient
{
    readonly double[] _alphas, _weights;

    public IntegratedGradientsOptions Options { get; }

    public IntegratedGradients(IntegratedGradientsOptions? options = null)
    {
        Options = options ?? new();
        (_alphas, _weights) = Nodes(Options);
        // The loss at the baseline (alpha = 0) is needed for completeness; Gauss-Legendre has no node there, so add one
        // with weight 0.
        if (_alphas[0] != 0) (_alphas, _weights) = ([0, .. _alphas], [0, .. _weights]);
    }

    /// <summary>The interpolation points alpha and their weights.</summary>
    public static (double[] Alphas, double[] Weights) Nodes(IntegratedGradientsOptions options)
    {
        int s = options.Steps;
        if (s < 1) throw new FacadeException($"Integrated Gradients needs at least one step (got {s}).");
        switch (options.Rule)
        {
            case IntegrationRule.LeftRiemann:
                return (Enumerable.Range(0, s).Select(k => (double)k / s).ToArray(), Enumerable.Repeat(1.0 / s, s).ToArray());
            case IntegrationRule.Trapezoid:
                return (Enumerable.Range(0, s + 1).Select(k => (double)k / s).ToArray(),
                        Enumerable.Range(0, s + 1).Select(k => k == 0 || k == s ? 0.5 / s : 1.0 / s).ToArray());
            default:
                var (x, w) = GaussLegendre(s);
                return (x.Select(v => (v + 1) / 2).ToArray(), w.Select(v => v / 2).ToArray());
        }
    }

    /// <summary>Nodes and weights on [-1, 1], by Newton's method on the Legendre polynomial P_n.</summary>
    static (double[] Nodes, double[] Weights) GaussLegendre(int n)
    {
        var nodes = new double[n];
        var weights = new double[n];
        for (int i = 0; i < n; i++)
        {
            double x = Math.Cos(Math.PI * (i + 0.75) / (n + 0.5)), derivative = 0;
            for (int iteration = 0; iteration < 100; iteration++)
            {
                double p0 = 1, p1 = x;
                for (int k = 2; k <= n; k++) (p0, p1) = (p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k);
                derivative = n * (x * p1 - p0) / (x * x - 1);   // P_n'(x) from P_n = p1, P_{n-1} = p0
                double step = p1 / derivative;
                x -= step;
                if (Math.Abs(step) < 1e-15) break;
            }
            nodes[n - 1 - i] = x;
            weights[n - 1 - i] = 2 / ((1 - x * x) * derivative * derivative);
        }
        return (nodes, weights);
    }

    public override IReadOnlyList<SaliencyMap> Explain(GradientEngine engine, IReadOnlyList<TokenizedInput> inputs, IReadOnlyList<Prediction> predictions) =>
        Options.Tolerance is null ? base.Explain(engine, inputs, predictions) : AdaptiveIntegration.Explain(this, engine, inputs, predictions);

    protected override int SampleCount => _alphas.Length;

    protected override float[] Sample(float[] clean, TokenizedInput input, int k)
    {
        float a = (float)_alphas[k];
        return clean.Select(v => v * a).ToArray();
    }

    protected override float Weight(int k) => (float)_weights[k];

    protected override (float[] Raw, Dictionary<string, double> Diagnostics) Reduce(float[] gradientSum, float[] clean, int hidden, Prediction prediction, float[] firstSampleLogits) =>
        Attribute(gradientSum, clean, hidden, prediction, firstSampleLogits, Options.Steps, _alphas.Length);

    /// <summary>Gradient x input of the weighted gradient sum, and the completeness check: the attributions should
    /// sum to L(input) - L(baseline); the gap is relative to that difference.</summary>
    internal static (float[] Raw, Dictionary<string, double> Diagnostics) Attribute(float[] weightedGradient, float[] clean, int hidden,
        Prediction prediction, float[] baselineLogits, int steps, int gradientEvaluations)
    {
        float[] raw = ScoreNormalization.GradientTimesInput(weightedGradient, clean, hidden);
        double total = raw.Sum(v => (double)v);
        double delta = prediction.LossAt(prediction.Logits) - prediction.LossAt(baselineLogits);
        return (raw, new()
        {
            ["steps"] = steps,
            ["gradient_evaluations"] = gradientEvaluations,
            ["attribution_sum"] = total,
            ["loss_delta"] = delta,
            ["completeness_gap"] = Math.Abs(total - delta) / Math.Max(Math.Abs(delta), 1e-12),
        });
    }
}
