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
        (double Agreement, double Overclaim) Compare(string method) =>
            GradientAgainstLeaveOneOut(records.Select(r => ((IReadOnlyList<float>)r.Saliency[method], (IReadOnlyList<float>)r.LeaveOneOut, ContentPositions(inputs[r.Index]))));
        string simpleName = AnalysisAttribute.NameOf<SimpleGradient>(), smoothName = AnalysisAttribute.NameOf<SmoothGrad>();
        var simple = Compare(simpleName);
        var smooth = Compare(smoothName);
        return new BehaviouralSignals(simple.Agreement, smooth.Agreement, simple.Overclaim, smooth.Overclaim,
            MedianCompletenessGap(records.Select(r => r.IgCompletenessGap)), records.Count, records.Count == 0 ? double.NaN : records.Average(r => (double)r.IgSteps),
            ComprehensivenessShare(records, simpleName), ComprehensivenessShare(records, smoothName), MethodConsensus(records, inputs));
    }

    /// <summary>
    /// Over inputs with at least 3 compared positions: the mean Spearman agreement of a gradient map with leave-one-out's
    /// |drops|, and the mean overclaim of the gradient's top position (its share minus leave-one-out's share there), both
    /// renormalized over the compared positions (docs/method.md 16.2). Classifiers compare every non-special token, span
    /// models the question's.
    /// </summary>
    public static (double Agreement, double Overclaim) GradientAgainstLeaveOneOut(IEnumerable<(IReadOnlyList<float> Gradient, IReadOnlyList<float> LeaveOneOut, int[] Positions)> rows)
    {
        var rhos = new List<double>();
        var overclaims = new List<double>();
        foreach (var (gradientMap, looMap, positions) in rows)
        {
            if (positions.Length < 3) continue;
            double[] gradient = Renormalize(positions.Select(p => (double)gradientMap[p]));
            double[] loo = Renormalize(positions.Select(p => Math.Abs((double)looMap[p])));
            double rho = SaliencyMetrics.Spearman(gradient, loo);
            if (!double.IsNaN(rho)) rhos.Add(rho);
            int top = Array.IndexOf(gradient, gradient.Max());
            overclaims.Add(gradient[top] - loo[top]);
        }
        return (rhos.Count == 0 ? double.NaN : rhos.Average(), overclaims.Count == 0 ? double.NaN : overclaims.Average());
    }

    /// <summary>
    /// Σ_i max(0, c_i(method)) / Σ_i max_m max(0, c_i(m)), c = [MASK] comprehensiveness of the top bin (the top token on
    /// inputs up to 100 tokens), m over every method measured (docs/method.md 16.2). [MASK] keeps the length and the
    /// positions: a perturbation other than leave-one-out's deletion. Reported, not decided on (it does not separate).
    /// Null without faithfulness scores, NaN when no top token moves the output.
    /// </summary>
    public static double? ComprehensivenessShare(IReadOnlyList<SentenceRecord> records, string method)
    {
        double own = 0, best = 0;
        bool measured = false;
        foreach (var r in records)
        {
            if (r.Faithfulness is not { } scores || !scores.TryGetValue(method, out var mine)) continue;
            measured = true;
            own += Math.Max(0, mine.ComprehensivenessMask[0]);
            best += scores.Values.Max(s => Math.Max(0, s.ComprehensivenessMask[0]));
        }
        return !measured ? null : best > 0 ? own / best : double.NaN;
    }

    /// <summary>The mean over sentences (≥ 3 non-special tokens) of the share of method pairs whose top non-special tokens
    /// coincide, over simple gradient, SmoothGrad, IG and leave-one-out (an aggregate in the spirit of Rieger and Hansen
    /// 2020: where explanation methods disagree, none of them is to be trusted alone).</summary>
    public static double MethodConsensus(IReadOnlyList<SentenceRecord> records, IReadOnlyList<TokenizedInput> inputs) =>
        MethodConsensus(records.Select(r => ((IReadOnlyCollection<float[]>)r.Saliency.Values, ContentPositions(inputs[r.Index]))));

    /// <summary>The same over any maps: per input, each method's normalized map and the positions compared (span
    /// models: the question's).</summary>
    public static double MethodConsensus(IEnumerable<(IReadOnlyCollection<float[]> Maps, int[] Positions)> rows)
    {
        var shares = new List<double>();
        foreach (var (maps, positions) in rows)
        {
            if (positions.Length < 3 || maps.Count < 2) continue;
            var tops = maps.Select(map => positions.MaxBy(p => map[p])).ToArray();
            int pairs = 0, agree = 0;
            for (int a = 0; a < tops.Length; a++)
                for (int b = a + 1; b < tops.Length; b++) { pairs++; if (tops[a] == tops[b]) agree++; }
            shares.Add(agree / (double)pairs);
        }
        return shares.Count == 0 ? double.NaN : shares.Average();
    }

    /// <summary>The positions of <paramref name="input"/> in <paramref name="segment"/> that are not [CLS] or [SEP]: what
    /// every behavioural signal compares (span models: the question's, <see cref="Segment.First"/>).</summary>
    public static int[] ContentPositions(TokenizedInput input, Segment segment = Segment.All) =>
        Enumerable.Range(0, input.Length).Where(p => input.InSegment(p, segment)).ToArray();

    /// <summary>The median of Integrated Gradients' finite completeness gaps (NaN when there is none).</summary>
    public static double MedianCompletenessGap(IEnumerable<double> gaps)
    {
        var finite = gaps.Where(double.IsFinite).OrderBy(g => g).ToArray();
        return finite.Length == 0 ? double.NaN : finite[finite.Length / 2];
    }

    static double[] Renormalize(IEnumerable<double> values)
    {
        var array = values.ToArray();
        double total = array.Sum();
        return total == 0 ? array.Select(_ => 1.0 / array.Length).ToArray() : array.Select(v => v / total).ToArray();
    }
}
