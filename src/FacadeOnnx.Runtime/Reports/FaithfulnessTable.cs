using FacadeOnnx.Runtime.Faithfulness;
using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Runtime.Saliency;

namespace FacadeOnnx.Runtime.Reports;

/// <summary>The faithfulness table of an audit report: a row per method and model, with the mean comprehensiveness and
/// sufficiency AOPCs by removal and by [MASK], and the mean deletion area.</summary>
public static class FaithfulnessTable
{
    public const string Note =
        "ERASER AOPC (DeYoung et al. 2020): the mean over the top 1, 5, 10, 20 and 50% of tokens of p(full) - p(without them) " +
        "(comprehensiveness, higher is more faithful) and p(full) - p(only them) (sufficiency, lower is more faithful), for the " +
        "predicted class; tokens removed or replaced by [MASK], [CLS]/[SEP] kept. Deletion area: the area under p as tokens are " +
        "removed most-salient-first, over the fraction removed (lower is more faithful).";

    /// <summary>The table, or null when a model was audited without the measures.</summary>
    public static ReportTable? Of(IReadOnlyList<ModelAudit> models) =>
        Of(models.Select(m => (m.Role, (IReadOnlyDictionary<string, FaithfulnessMetrics>?)m.Faithfulness)).ToArray());

    /// <summary>The same for any named models' per-method metrics (SQuAD audits too); null when one has none.</summary>
    public static ReportTable? Of(IReadOnlyList<(string Model, IReadOnlyDictionary<string, FaithfulnessMetrics>? Metrics)> models, string note = Note)
    {
        if (models.Count == 0 || models.Any(m => m.Metrics == null)) return null;
        var methods = SaliencyMethods.Names.Where(n => models.All(m => m.Metrics!.ContainsKey(n))).ToArray();
        return new ReportTable("Faithfulness",
            ["method", "model", "comprehensiveness (removal)", "comprehensiveness ([MASK])", "sufficiency (removal)", "sufficiency ([MASK])", "deletion area"],
            methods.SelectMany(method => models.Select(m =>
            {
                var f = m.Metrics![method];
                return new[] { method, m.Model }.Concat(new[] { f.ComprehensivenessRemoval, f.ComprehensivenessMask, f.SufficiencyRemoval,
                    f.SufficiencyMask, f.DeletionArea }.Select(v => ReportTables.F(v))).ToArray();
            })).ToList(),
            note);
    }
}
