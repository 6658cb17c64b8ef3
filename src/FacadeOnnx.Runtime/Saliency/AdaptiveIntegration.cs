using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Saliency;

/// <summary>
/// Integrated Gradients that spends steps only where the path is sharp: every input starts at the options' steps,
/// and an input whose completeness gap is above the tolerance doubles its steps, round after round, until the gap is
/// within the tolerance or doubling would pass the cap. The left Riemann and trapezoid nodes of S steps are among
/// those of 2S, so a doubling sends only the S new midpoints and keeps every gradient already computed
/// (docs/design.md, "Integrated Gradients that stops when it has converged"). All inputs of a round share the
/// engine's batches.
/// </summary>
static class AdaptiveIntegration
{
    sealed class Path(float[] clean, int steps)
    {
        public float[] Clean { get; } = clean;
        /// <summary>Sum of gradients at the nodes so far, each weighted as the rule weights it times the steps
        /// (1, or 1/2 at the trapezoid's ends), so that the rule's estimate is this over the steps.</summary>
        public float[] Sum { get; } = new float[clean.Length];
        public int Steps { get; set; } = steps;
        public int Evaluations { get; set; }
        public float[]? BaselineLogits { get; set; }
    }

    public static IReadOnlyList<SaliencyMap> Explain(IntegratedGradients method, GradientEngine engine, IReadOnlyList<TokenizedInput> inputs, IReadOnlyList<Prediction> predictions)
    {
        var options = method.Options;
        double tolerance = options.Tolerance ?? throw new ArgumentException("Adaptive Integrated Gradients needs a tolerance.");
        if (!(tolerance > 0))
            throw new FacadeException($"The Integrated Gradients tolerance must be a positive relative completeness gap, e.g. 0.01 (got {tolerance}).");
        if (options.Rule == IntegrationRule.GaussLegendre)
            throw new FacadeException("Adaptive Integrated Gradients doubles its steps reusing the nodes already computed, which Gauss-Legendre nodes " +
                                      "do not allow; use --ig-rule LeftRiemann or Trapezoid with a tolerance, or GaussLegendre with fixed steps.");
        if (options.Steps < 1) throw new FacadeException($"Integrated Gradients needs at least one step (got {options.Steps}).");
        if (options.MaxSteps < options.Steps)
            throw new FacadeException($"The most steps for adaptive Integrated Gradients ({options.MaxSteps}) is below the steps it starts with ({options.Steps}).");

        var paths = new Path[inputs.Count];
        var maps = new SaliencyMap[inputs.Count];
        var (firstAlphas, firstWeights) = IntegratedGradients.Nodes(options with { Tolerance = null });
        var active = SaliencyMethod.ByLength(inputs).ToList();
        for (int round = 0; active.Count > 0; round++)
        {
            // Round 0 sends the rule's nodes; later rounds the midpoints between the nodes of the steps so far.
            (double Alpha, double Weight)[] NodesOf(Path path) => round == 0
                ? firstAlphas.Select((a, k) => (a, firstWeights[k] * options.Steps)).ToArray()
                : Enumerable.Range(0, path.Steps).Select(j => ((2.0 * j + 1) / (2.0 * path.Steps), 1.0)).ToArray();
            var owners = new List<(int Input, double Alpha, float Weight)>();
            IEnumerable<EngineSample> Samples()
            {
                foreach (int i in active)
                {
                    var path = paths[i] ??= new Path(engine.Embed(inputs[i].Ids), options.Steps);
                    foreach (var (alpha, weight) in NodesOf(path))
                    {
                        owners.Add((i, alpha, (float)weight));
                        float a = (float)alpha;
                        yield return EngineSample.At(path.Clean.Select(v => v * a).ToArray(), inputs[i], predictions[i]);
                    }
                }
            }
            engine.Gradients(Samples(), (s, logits, gradient) =>
            {
                var (i, alpha, weight) = owners[s];
                var path = paths[i];
                if (alpha == 0) path.BaselineLogits = logits.ToArray();
                path.Evaluations++;
                for (int j = 0; j < path.Sum.Length; j++) path.Sum[j] += weight * gradient[j];
            });
            var next = new List<int>();
            foreach (int i in active)
            {
                var path = paths[i];
                if (round > 0) path.Steps *= 2;
                float scale = 1f / path.Steps;
                var (raw, diagnostics) = IntegratedGradients.Attribute(path.Sum.Select(v => v * scale).ToArray(), path.Clean, engine.Hidden,
                    predictions[i], path.BaselineLogits!, path.Steps, path.Evaluations);
                if (diagnostics["completeness_gap"] > tolerance && path.Steps * 2 <= options.MaxSteps)
                {
                    next.Add(i);
                    continue;
                }
                diagnostics["tolerance"] = tolerance;
                maps[i] = new SaliencyMap(method.Name, inputs[i], predictions[i], raw, ScoreNormalization.AbsL1(raw), diagnostics);
                paths[i] = null!; // its gradients are no longer needed
            }
            active = next;
        }
        return maps;
    }
}
