namespace FacadeOnnx.Runtime.Audit;

/// <summary>Where the verdict draws its lines (measured on merged and clean models; see the README's audit section).</summary>
public sealed record VerdictThresholds
{
    /// <summary>Manipulated when at least this share of weight matrices splits into independent blocks.</summary>
    public double BlockFraction { get; init; } = 0.5;
    /// <summary>Untrustworthy when gradient saliency and leave-one-out agree less than this (mean Spearman per sentence).</summary>
    public double MinGradientLooAgreement { get; init; } = 0.1;
}

/// <summary>The behavioural signals, measured from the model's outputs and gradients alone.</summary>
public sealed record BehaviouralSignals(double GradientLooAgreement, double SmoothLooAgreement, double IgCompletenessGap, int Sentences);

/// <summary>
/// Can this model's gradient explanations be trusted? "manipulated" when the graph itself shows a merge (independent
/// blocks, split LayerNorm feeding summed logits), "suspicious" when gradients disagree with what removing tokens
/// does to the output, "trusted" otherwise. The gate fails on anything but trusted.
/// </summary>
public sealed record ManipulationVerdict(string Verdict, IReadOnlyList<string> Reasons, StructuralEvidence Structure, BehaviouralSignals Behaviour, VerdictThresholds Thresholds)
{
    public const string Manipulated = "manipulated", Suspicious = "suspicious", Trusted = "trusted";

    public bool Untrusted => Verdict != Trusted;

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
        if (!double.IsNaN(behaviour.GradientLooAgreement) && behaviour.GradientLooAgreement < thresholds.MinGradientLooAgreement)
        {
            behavioural = true;
            reasons.Add($"gradient saliency and leave-one-out barely agree (mean Spearman {behaviour.GradientLooAgreement:F3} < {thresholds.MinGradientLooAgreement:F2})");
        }
        if (reasons.Count == 0)
            reasons.Add($"no block structure ({structure.BlockFraction:P0} of matrices), gradient and leave-one-out agree (Spearman {behaviour.GradientLooAgreement:F3})");
        string verdict = structural ? Manipulated : behavioural ? Suspicious : Trusted;
        return new ManipulationVerdict(verdict, reasons, structure, behaviour, thresholds);
    }
}
