using FacadeOnnx.Runtime.Metrics;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Audit;

/// <summary>
/// Stage 4 of an audit: the verdict on one model, from what its graph shows (<see cref="StructuralForensics"/>) and
/// from how its gradients behave against leave-one-out (docs/method.md 16).
/// </summary>
public static class AuditJudgement
{
    public static ManipulationVerdict Judge(AuditPlan plan, AuditSubject subject, IReadOnlyList<SentenceRecord> records)
    {
        var structure = StructuralForensics.Analyze(subject.Engine.Graph);
        return ManipulationVerdict.Decide(structure, Behaviour(records, plan.Inputs), plan.Options.Thresholds);
    }

    /// <summary>
    /// How gradient methods relate to leave-one-out over the non-special tokens: rank agreement (Spearman) and the
    /// overclaim of the gradient's top token; plus IG's median completeness gap.
    /// </summary>
    public static BehaviouralSignals Behaviour(IReadOnlyList<SentenceRecord> records, IReadOnlyList<TokenizedInput> inputs)
    {
        (double Agreement, double Overclaim) Compare(string method)
        {
            var rhos = new List<double>();
            var overclaims = new List<double>();
            foreach (var r in records)
            {
                var positions = Enumerable.Range(0, inputs[r.Index].Length).Where(p => !inputs[r.Index].Spans[p].IsSpecial).ToArray();
                if (positions.Length < 3) continue;
                double[] gradient = Renormalize(positions.Select(p => (double)r.Saliency[method][p]));
                double[] loo = Renormalize(positions.Select(p => Math.Abs((double)r.LeaveOneOut[p])));
                double rho = SaliencyMetrics.Spearman(gradient, loo);
                if (!double.IsNaN(rho)) rhos.Add(rho);
                int top = Array.IndexOf(gradient, gradient.Max());
                overclaims.Add(gradient[top] - loo[top]);
            }
            return (rhos.Count == 0 ? double.NaN : rhos.Average(), overclaims.Count == 0 ? double.NaN : overclaims.Average());
        }
        var gaps = records.Select(r => r.IgCompletenessGap).Where(double.IsFinite).OrderBy(g => g).ToArray();
        var simple = Compare(AnalysisAttribute.NameOf<SimpleGradient>());
        var smooth = Compare(AnalysisAttribute.NameOf<SmoothGrad>());
        return new BehaviouralSignals(simple.Agreement, smooth.Agreement, simple.Overclaim, smooth.Overclaim,
            gaps.Length == 0 ? double.NaN : gaps[gaps.Length / 2], records.Count, records.Count == 0 ? double.NaN : records.Average(r => (double)r.IgSteps));
    }

    static double[] Renormalize(IEnumerable<double> values)
    {
        var array = values.ToArray();
        double total = array.Sum();
        return total == 0 ? array.Select(_ => 1.0 / array.Length).ToArray() : array.Select(v => v / total).ToArray();
    }
}
