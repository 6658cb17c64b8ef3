namespace FacadeOnnx.Runtime.Faithfulness;

/// <summary>
/// A method's faithfulness over many inputs: the means of the per-input AOPCs (comprehensiveness and sufficiency, by
/// removal and by [MASK]) and of the deletion areas, and the mean deletion curve on 21 fractions (0, 0.05, ..., 1).
/// Higher comprehensiveness, lower sufficiency and a smaller deletion area mean a more faithful explanation.
/// </summary>
public sealed record FaithfulnessMetrics(
    int Count,
    double ComprehensivenessRemoval,
    double ComprehensivenessMask,
    double SufficiencyRemoval,
    double SufficiencyMask,
    double DeletionArea,
    CurvePoint[] MeanDeletionCurve)
{
    public static FaithfulnessMetrics Of(IReadOnlyList<FaithfulnessScores> scores)
    {
        double Mean(Func<FaithfulnessScores, double> value) => scores.Count == 0 ? double.NaN : scores.Average(value);
        return new FaithfulnessMetrics(scores.Count,
            Mean(s => FaithfulnessScores.Aopc(s.ComprehensivenessRemoval)), Mean(s => FaithfulnessScores.Aopc(s.ComprehensivenessMask)),
            Mean(s => FaithfulnessScores.Aopc(s.SufficiencyRemoval)), Mean(s => FaithfulnessScores.Aopc(s.SufficiencyMask)),
            Mean(s => s.Deletion.Area()), DeletionCurve.Mean(scores.Select(s => s.Deletion).ToArray()));
    }

    /// <summary>Per method, over inputs that each hold every method's scores; null when any input was measured without
    /// them (an audit run with --no-faithfulness).</summary>
    public static Dictionary<string, FaithfulnessMetrics>? PerMethod(IReadOnlyList<IReadOnlyDictionary<string, FaithfulnessScores>?> inputs)
    {
        if (inputs.Count == 0 || inputs.Any(i => i == null)) return null;
        return inputs[0]!.Keys.ToDictionary(method => method, method => Of(inputs.Select(i => i![method]).ToArray()));
    }
}
