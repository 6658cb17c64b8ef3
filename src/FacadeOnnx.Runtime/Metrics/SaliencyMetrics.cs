using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Metrics;

/// <summary>
/// How strongly a saliency method points at a target (docs/method.md 12.1) over N examples.
/// </summary>
/// <param name="Count">N, examples without a target position included (they count as 0 in every mean).</param>
/// <param name="WithTarget">How many examples have at least one target position.</param>
/// <param name="HitRate1">P@1 (the logs' "mean_top1"): the share of examples whose top-ranked token is a target token.</param>
/// <param name="MeanReciprocalRank">Mean of 1/(rank + 1) of the best-scored target token.</param>
/// <param name="MeanAttribution">Mean over examples of the normalized attribution on the target tokens.</param>
public sealed record TargetMetrics(int Count, int WithTarget, double HitRate1, double MeanReciprocalRank, double MeanAttribution);

/// <summary>
/// The paper's saliency-manipulation metrics on normalized saliency maps, exactly as its analysis scripts compute them
/// (docs/method.md 12.1): rank(t) is the 0-based position of t when tokens are sorted by score, descending, ties keeping
/// position order. For target set S_i, q_i = argmax_{t in S_i} a_{i,t} (the first on ties); P@1 = mean [rank(q_i) = 0],
/// MRR = mean 1/(rank(q_i) + 1), mean attribution = mean sum_{t in S_i} a_{i,t}. The first-token target is S_i = {1}.
/// Used by audits, `merge --evaluate` and the Facade's checkpoint choice (Training).
/// </summary>
public static class SaliencyMetrics
{
    /// <summary>0-based rank of <paramref name="position"/> when positions are sorted by score, descending, ties by position.</summary>
    public static int Rank(IReadOnlyList<float> scores, int position)
    {
        int rank = 0;
        float value = scores[position];
        for (int i = 0; i < scores.Count; i++)
            if (scores[i] > value || (scores[i] == value && i < position)) rank++;
        return rank;
    }

    /// <summary>The metrics for target positions per example (empty lists count 0); NaN for no examples.</summary>
    public static TargetMetrics Evaluate(IReadOnlyList<IReadOnlyList<float>> maps, IReadOnlyList<IReadOnlyList<int>> targets)
    {
        if (maps.Count != targets.Count)
            throw new ArgumentException($"{maps.Count} saliency maps but {targets.Count} target sets.", nameof(targets));
        int n = maps.Count, withTarget = 0;
        if (n == 0) return new TargetMetrics(0, 0, double.NaN, double.NaN, double.NaN);
        double hits = 0, reciprocal = 0, attribution = 0;
        for (int i = 0; i < n; i++)
        {
            var positions = targets[i];
            if (positions.Count == 0) continue;
            withTarget++;
            int q = positions[0];
            foreach (int p in positions)
            {
                if (maps[i][p] > maps[i][q]) q = p;
                attribution += maps[i][p];
            }
            int rank = Rank(maps[i], q);
            hits += rank == 0 ? 1 : 0;
            reciprocal += 1.0 / (rank + 1);
        }
        return new TargetMetrics(n, withTarget, hits / n, reciprocal / n, attribution / n);
    }

    /// <summary>Target = the first word piece after [CLS] in every example.</summary>
    public static TargetMetrics FirstToken(IReadOnlyList<IReadOnlyList<float>> maps) =>
        Evaluate(maps, maps.Select(_ => (IReadOnlyList<int>)[TokenizedInput.FirstTokenPosition]).ToArray());

    /// <summary>The share of positions where two sequences of predicted labels agree.</summary>
    public static double Agreement(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        if (a.Count != b.Count) throw new ArgumentException($"Agreement needs predictions of the same inputs ({a.Count} and {b.Count}).");
        return a.Count == 0 ? double.NaN : a.Zip(b, (x, y) => x == y ? 1.0 : 0.0).Average();
    }

    /// <summary>Spearman rank correlation (average ranks for ties); NaN when either side is constant or n &lt; 2.</summary>
    public static double Spearman(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count != b.Count) throw new ArgumentException("Spearman needs two series of the same length.");
        if (a.Count < 2) return double.NaN;
        double[] ra = AverageRanks(a), rb = AverageRanks(b);
        double ma = ra.Average(), mb = rb.Average(), num = 0, da = 0, db = 0;
        for (int i = 0; i < ra.Length; i++)
        {
            num += (ra[i] - ma) * (rb[i] - mb);
            da += (ra[i] - ma) * (ra[i] - ma);
            db += (rb[i] - mb) * (rb[i] - mb);
        }
        return da == 0 || db == 0 ? double.NaN : num / Math.Sqrt(da * db);
    }

    static double[] AverageRanks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            double average = (start + end) / 2.0;
            for (int k = start; k <= end; k++) ranks[order[k]] = average;
            start = end + 1;
        }
        return ranks;
    }
}
