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

/// <summary>Reference defaults of METHOD.md section 9: 5 steps, left Riemann sum, zero word-embedding baseline.</summary>
public sealed record IntegratedGradientsOptions
{
    public int Steps { get; init; } = 5;
    public IntegrationRule Rule { get; init; } = IntegrationRule.LeftRiemann;
}

/// <summary>
/// Integrated Gradients (Sundararajan et al. 2017) from a zero word-embedding baseline (position and type embeddings
/// and LayerNorm still apply, as in the paper's code). Reports completeness: the attributions should sum to the loss
/// difference L(input) - L(baseline); the relative gap says how far the chosen rule and step count are from that.
/// </summary>
public sealed class IntegratedGradients(IntegratedGradientsOptions? options = null) : ISaliencyMethod
{
    readonly IntegratedGradientsOptions _options = options ?? new();

    public string Name => "ig";

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

    public IReadOnlyList<SaliencyMap> Explain(GradientEngine engine, IReadOnlyList<TokenizedInput> inputs, IReadOnlyList<Prediction> predictions)
    {
        var (alphas, weights) = Nodes(_options);
        // The loss at the baseline (alpha = 0) is needed for completeness; Gauss-Legendre has no node there, so add one.
        bool extraBaseline = alphas[0] != 0;
        if (extraBaseline) (alphas, weights) = ([0, .. alphas], [0, .. weights]);
        int m = alphas.Length, h = engine.Hidden;
        var order = Enumerable.Range(0, inputs.Count).OrderBy(i => inputs[i].Length).ToArray();
        var clean = new float[inputs.Count][];
        var sums = new float[inputs.Count][];
        var baselineLoss = new double[inputs.Count];
        IEnumerable<EngineSample> Samples()
        {
            foreach (int i in order)
            {
                clean[i] = engine.Embed(inputs[i].Ids);
                sums[i] = new float[clean[i].Length];
                for (int k = 0; k < m; k++)
                {
                    float a = (float)alphas[k];
                    yield return new EngineSample(clean[i].Select(v => v * a).ToArray(), inputs[i].TypeIds, predictions[i].Label);
                }
            }
        }
        engine.Gradients(Samples(), (s, logits, gradient) =>
        {
            int i = order[s / m], k = s % m;
            if (k == 0) baselineLoss[i] = Prediction.CrossEntropy(logits, predictions[i].Label);
            float w = (float)weights[k];
            var sum = sums[i];
            for (int j = 0; j < sum.Length; j++) sum[j] += w * gradient[j];
        });
        var maps = new SaliencyMap[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            float[] raw = ScoreNormalization.GradientTimesInput(sums[i], clean[i], h);
            double total = raw.Sum(v => (double)v);
            double delta = predictions[i].Loss(predictions[i].Label) - baselineLoss[i];
            maps[i] = new SaliencyMap(Name, inputs[i], predictions[i].Label, predictions[i].Probability, raw, ScoreNormalization.AbsL1(raw),
                new Dictionary<string, double>
                {
                    ["steps"] = _options.Steps,
                    ["attribution_sum"] = total,
                    ["loss_delta"] = delta,
                    ["completeness_gap"] = Math.Abs(total - delta) / Math.Max(Math.Abs(delta), 1e-12),
                });
        }
        return maps;
    }
}
