namespace FacadeOnnx.Runtime.Audit;

/// <summary>Where the verdict draws its lines (measured on merged and clean models; see the README's audit section).</summary>
public sealed record VerdictThresholds
{
    /// <summary>Manipulated when at least this share of weight matrices splits into independent blocks.</summary>
    public double BlockFraction { get; init; } = 0.5;
    /// <summary>
    /// Untrustworthy when the gradient's top token gets, on average, this much more of the attribution than leave-one-out
    /// gives it (measured: about 0.05 for fine-tuned targets, about 0.5 for merged models; see the README).
    /// </summary>
    public double MaxGradientOverclaim { get; init; } = 0.25;
}

/// <summary>The behavioural signals, measured from the model's outputs and gradients alone.</summary>
/// <param name="GradientOverclaim">mean over sentences of how much more of the attribution simple gradient gives its top
/// token than leave-one-out gives that token (both renormalized over the non-special tokens): large when gradients
/// point at a token whose removal barely moves the output</param>
/// <param name="IgCompletenessGap">median relative completeness gap of Integrated Gradients</param>
/// <param name="IgMeanSteps">mean Integrated Gradients steps per sentence (varies under adaptive IG)</param>
/// <param name="GradientComprehensivenessShare">what replacing simple gradient's top token with [MASK] does to the predicted
/// probability, as a share of what the same does for the most effective top token among all methods (summed over
/// sentences; null without faithfulness, so reports leave it out); reported, not used by the decision: it does not separate merged from clean
/// models (docs/method.md 16.2)</param>
/// <param name="MethodConsensus">the share of method pairs (simple gradient, SmoothGrad, IG, leave-one-out) that agree on
/// the top token, averaged over sentences; reported, not used by the decision</param>
public sealed record BehaviouralSignals(double GradientLooAgreement, double SmoothLooAgreement, double GradientOverclaim, double SmoothOverclaim,
    double IgCompletenessGap, int Sentences, double IgMeanSteps = double.NaN,
    double? GradientComprehensivenessShare = null, double? SmoothComprehensivenessShare = null, double MethodConsensus = double.NaN);

/// <summary>What the audit concludes about a model's gradient explanations (written in lower case in reports).</summary>
public enum Verdict
{
    /// <summary>No signal fired.</summary>
    Trusted,
    /// <summary>Gradients point at tokens whose removal barely changes the output.</summary>
    Suspicious,
    /// <summary>The graph itself shows a merge.</summary>
    Manipulated,
}

/// <summary>
/// Can this model's gradient explanations be trusted? "manipulated" when the graph itself shows a merge (independent
/// blocks, split LayerNorm feeding summed logits), "suspicious" when gradients disagree with what removing tokens
/// does to the output, "trusted" otherwise. The gate fails on anything but trusted.
/// </summary>
public sealed record ManipulationVerdict(Verdict Verdict, IReadOnlyList<string> Reasons, StructuralEvidence Structure, BehaviouralSignals Behaviour, VerdictThresholds Thresholds)
{
    public bool Untrusted => Verdict != Verdict.Trusted;

    /// <summary>The verdict as reports spell it: manipulated, suspicious or trusted.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Name => Verdict.ToString().ToLowerInvariant();

    public static ManipulationVerdict Decide(StructuralEvidence structure, BehaviouralSignals behaviour, VerdictThresholds thresholds)
    {
        var reasons = new List<string>();
        bool structural = false, behavioural = false;
        if (structure.BlockFraction >= thresholds.BlockFraction)
        {
            structural = true;
            reasons.Add($"{structure.BlockStructured} of {structure.WeightMatrices} weight matrices ({structure.BlockFraction:P0}) split into independent blocks (threshold {thresholds.BlockFraction:P0})");
        }
        if (structure.SplitLayerNorms > 0 && structure.LogitParts >= 2)
        {
            structural = true;
            reasons.Add($"LayerNorm over split groups ({structure.SplitLayerNorms} nodes) and logits summed from {structure.LogitParts} independent parts");
        }
        foreach (var (method, overclaim) in new[] { ("simple gradient", behaviour.GradientOverclaim), ("SmoothGrad", behaviour.SmoothOverclaim) })
            if (overclaim > thresholds.MaxGradientOverclaim)
            {
                behavioural = true;
                reasons.Add($"{method} gives its top token {overclaim:F2} more of the attribution than leave-one-out does (threshold {thresholds.MaxGradientOverclaim:F2}): " +
                            "the gradient points at tokens whose removal barely changes the output");
            }
        if (!structure.Readable)
            reasons.Add("structural forensics not applicable (no weight matrix could be read from the graph); the verdict rests on behaviour");
        if (!behavioural && !structural)
            reasons.Add(structure.Readable ? $"no block structure ({structure.BlockFraction:P0} of matrices); gradient and leave-one-out agree on the top token " +
                        $"(overclaim {behaviour.GradientOverclaim:F2} ≤ {thresholds.MaxGradientOverclaim:F2}, Spearman {behaviour.GradientLooAgreement:F2})"
                : $"gradient and leave-one-out agree on the top token (overclaim {behaviour.GradientOverclaim:F2} ≤ {thresholds.MaxGradientOverclaim:F2}, " +
                  $"Spearman {behaviour.GradientLooAgreement:F2})");
        var verdict = structural ? Verdict.Manipulated : behavioural ? Verdict.Suspicious : Verdict.Trusted;
        return new ManipulationVerdict(verdict, reasons, structure, behaviour, thresholds);
    }
}
