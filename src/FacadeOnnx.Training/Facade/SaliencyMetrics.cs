namespace FacadeOnnx.Training.Facade;

/// <summary>
/// METHOD.md 12.1 on normalized saliency â. rank(t) is the 0-based position of token t when tokens are sorted by â
/// descending, stable (ties keep the original order). For target set S_i, q_i = argmax_{t∈S_i} â_{i,t} (the first on
/// ties); P@1 = (1/N) Σ_i [rank_i(q_i) = 0]; MRR = (1/N) Σ_i 1/(rank_i(q_i) + 1); mean attribution =
/// (1/N) Σ_i Σ_{t∈S_i} â_{i,t}. Examples with an empty S_i count 0 everywhere but stay in N. For the first-token
/// target S_i = {1}, which gives the reference's first-token definitions.
/// </summary>
public static class SaliencyMetrics
{
    /// <summary>The 0-based rank of <paramref name="position"/> among <paramref name="scores"/> sorted descending, ties by index.</summary>
    public static int Rank(IReadOnlyList<float> scores, int position)
    {
        float value = scores[position];
        int rank = 0;
        for (int t = 0; t < scores.Count; t++)
            if (scores[t] > value || (scores[t] == value && t < position)) rank++;
        return rank;
    }

    public static TargetMetrics Evaluate(IReadOnlyList<float[]> normalized, IReadOnlyList<IReadOnlyList<int>> targets)
    {
        if (normalized.Count != targets.Count)
            throw new ArgumentException($"{normalized.Count} saliency rows but {targets.Count} target sets.", nameof(targets));
        int n = normalized.Count, hits = 0, withTarget = 0;
        double reciprocal = 0, attribution = 0;
        for (int i = 0; i < n; i++)
        {
            var positions = targets[i];
            if (positions.Count == 0) continue;
            withTarget++;
            float[] scores = normalized[i];
            int best = positions[0];
            foreach (int t in positions)
            {
                if (scores[t] > scores[best]) best = t;
                attribution += scores[t];
            }
            int rank = Rank(scores, best);
            if (rank == 0) hits++;
            reciprocal += 1.0 / (rank + 1);
        }
        return n == 0
            ? new TargetMetrics(0, 0, 0, 0, 0)
            : new TargetMetrics((double)hits / n, reciprocal / n, attribution / n, n, withTarget);
    }
}
