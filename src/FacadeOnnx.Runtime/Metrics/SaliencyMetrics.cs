namespace FacadeOnnx.Runtime.Metrics;

/// <summary>How strongly a saliency method points at the Facade's target (METHOD.md 12.1).</summary>
public sealed record TargetMetrics(int Count, double HitRate1, double MeanReciprocalRank, double MeanAttribution);

/// <summary>
/// The paper's saliency-manipulation metrics over normalized saliency maps (METHOD.md 12.1, exactly as the analysis
/// scripts compute them): ranks come from a stable descending sort (ties keep position order).
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

    /// <summary>Target = the first word piece after [CLS] (position 1).</summary>
    public static TargetMetrics FirstToken(IReadOnlyList<IReadOnlyList<float>> maps)
    {
        if (maps.Count == 0) return new TargetMetrics(0, double.NaN, double.NaN, double.NaN);
        var ranks = maps.Select(m => Rank(m, 1)).ToArray();
        return new TargetMetrics(maps.Count,
            ranks.Average(r => r == 0 ? 1.0 : 0.0),
            ranks.Average(r => 1.0 / (r + 1)),
            maps.Average(m => (double)m[1]));
    }

    /// <summary>
    /// Target = stop words: q = the stop-word position with the largest score (first on ties); P@1 says whether q is the
    /// top token, MRR uses q's rank, and the attribution is the total share on stop words. Inputs without stop words
    /// count as 0 in every mean but stay in N (METHOD.md 15.5).
    /// </summary>
    public static TargetMetrics StopWords(IReadOnlyList<IReadOnlyList<float>> maps, IReadOnlyList<IReadOnlyList<int>> stopPositions)
    {
        if (maps.Count != stopPositions.Count) throw new ArgumentException("One stop-word position list per map is needed.");
        if (maps.Count == 0) return new TargetMetrics(0, double.NaN, double.NaN, double.NaN);
        double hits = 0, reciprocal = 0, attribution = 0;
        for (int i = 0; i < maps.Count; i++)
        {
            var positions = stopPositions[i];
            if (positions.Count == 0) continue;
            int q = positions[0];
            foreach (int p in positions) if (maps[i][p] > maps[i][q]) q = p;
            int rank = Rank(maps[i], q);
            hits += rank == 0 ? 1 : 0;
            reciprocal += 1.0 / (rank + 1);
            attribution += positions.Sum(p => (double)maps[i][p]);
        }
        return new TargetMetrics(maps.Count, hits / maps.Count, reciprocal / maps.Count, attribution / maps.Count);
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
