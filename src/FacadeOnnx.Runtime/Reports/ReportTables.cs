using System.Globalization;
using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Runtime.Metrics;
using FacadeOnnx.Runtime.Saliency;

namespace FacadeOnnx.Runtime.Reports;

/// <summary>A table of an audit report: a title, column headers and rows of cells (already formatted).</summary>
public sealed record ReportTable(string Title, string[] Header, List<string[]> Rows, string? Note = null);

/// <summary>The report tables, shared by the Markdown and HTML reports (and `merge --evaluate`) so all show the same numbers.</summary>
public static class ReportTables
{
    public static string F(double value, string format = "F3") =>
        double.IsNaN(value) ? "n/a" : value.ToString(format, CultureInfo.InvariantCulture);

    public static IReadOnlyList<ModelAudit> Models(AuditReport report) =>
        report.Compare == null ? [report.Model] : [report.Model, report.Compare];

    static string Name(ModelAudit m) => $"{m.Role}: {Path.GetFileName(m.Path)} ({m.Kind})";

    /// <summary>
    /// P@1, MRR and mean attribution of each method (rows, in the methods' standard order) for each model (columns).
    /// </summary>
    public static ReportTable Saliency(string title, IReadOnlyList<(string Model, IReadOnlyDictionary<string, TargetMetrics> ByMethod)> models, string? note = null)
    {
        var methods = SaliencyMethods.Names.Where(n => models.Any(m => m.ByMethod.ContainsKey(n))).ToArray();
        return new ReportTable(title,
            ["method", .. models.SelectMany(m => new[] { $"P@1 {m.Model}", $"MRR {m.Model}", $"attribution {m.Model}" })],
            methods.Select(method => new[] { method }.Concat(models.SelectMany(m => m.ByMethod.TryGetValue(method, out var t)
                ? new[] { F(t.HitRate1), F(t.MeanReciprocalRank), F(t.MeanAttribution) }
                : ["", "", ""])).ToArray()).ToList(),
            note);
    }

    public static List<ReportTable> All(AuditReport report)
    {
        var models = Models(report);
        bool labelled = models.All(m => m.Accuracy != null);
        var tables = new List<ReportTable>
        {
            Verdicts(models.Select(m => (Name(m), m.Verdict)).ToArray(),
                "manipulated: the graph shows a merge; suspicious: gradients point at tokens whose removal barely matters (leave-one-out); the gate fails on both."),
            new(labelled ? "Accuracy and agreement" : "Agreement", ["", .. models.Select(m => m.Role)],
            [
                .. labelled ? [["accuracy", .. models.Select(m => F(m.Accuracy!.Value))]] : Array.Empty<string[]>(),
                ["sentences", .. models.Select(m => m.Sentences.ToString())],
                .. report.Comparison == null ? Array.Empty<string[]>() :
                    [["prediction agreement", F(report.Comparison.PredictionAgreement), ""]],
            ], labelled ? null : "The input has no labels, so there is no accuracy; every other number needs none."),
        };
        foreach (var (target, pick) in new[] { ("first-token", (Func<ModelAudit, Dictionary<string, TargetMetrics>>)(m => m.FirstToken)), ("stop-words", m => m.StopWords) }
                     .OrderBy(t => t.Item1 == report.Target ? 0 : 1))
        {
            tables.Add(Saliency($"Saliency on the {target} target" + (target == report.Target ? " (the audit's target)" : ""),
                models.Select(m => (m.Role, (IReadOnlyDictionary<string, TargetMetrics>)pick(m))).ToArray(),
                target == "first-token" ? "P@1: share of sentences whose most salient token is the first word piece (docs/method.md 12.1)."
                    : "P@1: share of sentences whose most salient token is a stop word; sentences without stop words count 0."));
        }
        if (FaithfulnessTable.Of(models) is { } faithfulness) tables.Add(faithfulness);
        if (models.All(m => m.Reduction != null))
            tables.Add(Reduction(models.Select(m => (m.Role, m.Reduction!)).ToArray(), report.Comparison?.ReductionIoU,
                "Lengths in word pieces without [CLS]/[SEP] (docs/method.md 12.2)."));
        if (models.All(m => m.HotFlip != null))
            tables.Add(HotFlip(models.Select(m => (m.Role, m.HotFlip!)).ToArray(), "Rates over all sentences; average flips over successful attacks (docs/method.md 12.3)."));
        tables.Add(Signals(models.Select(m => (m.Role, m.Verdict)).ToArray()));
        return tables;
    }

    /// <summary>Each model's verdict and the reasons for it.</summary>
    public static ReportTable Verdicts(IReadOnlyList<(string Model, ManipulationVerdict Verdict)> models, string note) =>
        new("Verdict", ["model", "verdict", "evidence"], models.Select(m => new[] { m.Model, m.Verdict.Name, string.Join("; ", m.Verdict.Reasons) }).ToList(), note);

    /// <summary>Input-reduction statistics per model (columns), with the IoU of two models' reductions when there are two.</summary>
    public static ReportTable Reduction(IReadOnlyList<(string Model, ReductionSummary Summary)> models, double? iou, string note)
    {
        List<string[]> rows =
        [
            ["mean length before", .. models.Select(m => F(m.Summary.MeanOriginalLength, "F2"))],
            ["mean length after", .. models.Select(m => F(m.Summary.MeanReducedLength, "F2"))],
            ["at least one stop word", .. models.Select(m => F(m.Summary.AtLeastOneStopToken))],
            ["only stop words", .. models.Select(m => F(m.Summary.AllStopTokens))],
            ["stop-word share of kept tokens", .. models.Select(m => F(m.Summary.StopTokenShare))],
        ];
        if (iou is double value) rows.Add(["IoU of the two reductions", F(value), ""]);
        return new ReportTable("Input reduction", ["", .. models.Select(m => m.Model)], rows, note);
    }

    /// <summary>HotFlip statistics per model (columns).</summary>
    public static ReportTable HotFlip(IReadOnlyList<(string Model, HotFlipSummary Summary)> models, string note) =>
        new("HotFlip", ["", .. models.Select(m => m.Model)],
        [
            ["attack effectiveness", .. models.Select(m => F(m.Summary.AttackEffectiveness))],
            ["average flips needed", .. models.Select(m => F(m.Summary.AverageFlipsNeeded, "F2"))],
            ["flip-1 rate", .. models.Select(m => F(m.Summary.Flip1Rate))],
            ["flip-2 rate", .. models.Select(m => F(m.Summary.Flip2Rate))],
            ["flip-3 rate", .. models.Select(m => F(m.Summary.Flip3Rate))],
            ["flipped positions that are stop words", .. models.Select(m => F(m.Summary.StopWordFlipShare))],
            ["flipped positions that are the first token", .. models.Select(m => F(m.Summary.FirstTokenFlipShare))],
        ], note);

    /// <summary>Every structural and behavioural signal behind the verdicts, per model (columns).</summary>
    public static ReportTable Signals(IReadOnlyList<(string Model, ManipulationVerdict Verdict)> models)
    {
        List<string[]> signals =
        [
            ["weight matrices split into blocks", .. models.Select(m => $"{m.Verdict.Structure.BlockStructured}/{m.Verdict.Structure.WeightMatrices}")],
            ["LayerNorm over split groups", .. models.Select(m => m.Verdict.Structure.SplitLayerNorms.ToString())],
            ["independent parts summed into the logits", .. models.Select(m => m.Verdict.Structure.LogitParts.ToString())],
            ["gradient vs leave-one-out (Spearman)", .. models.Select(m => F(m.Verdict.Behaviour.GradientLooAgreement))],
            ["SmoothGrad vs leave-one-out (Spearman)", .. models.Select(m => F(m.Verdict.Behaviour.SmoothLooAgreement))],
            ["gradient's top token overclaim vs leave-one-out", .. models.Select(m => F(m.Verdict.Behaviour.GradientOverclaim))],
            ["SmoothGrad's top token overclaim vs leave-one-out", .. models.Select(m => F(m.Verdict.Behaviour.SmoothOverclaim))],
            ["methods agreeing on the top token (share of pairs)", .. models.Select(m => F(m.Verdict.Behaviour.MethodConsensus))],
            ["IG completeness gap (median, relative)", .. models.Select(m => F(m.Verdict.Behaviour.IgCompletenessGap))],
            ["IG steps per sentence (mean)", .. models.Select(m => F(m.Verdict.Behaviour.IgMeanSteps))],
        ];
        // Measured with the faithfulness measures only (docs/method.md 16.2).
        if (models.All(m => m.Verdict.Behaviour.GradientComprehensivenessShare != null))
            signals.InsertRange(7,
            [
                ["gradient's top token, [MASK] comprehensiveness share of the best method's", .. models.Select(m => F(m.Verdict.Behaviour.GradientComprehensivenessShare!.Value))],
                ["SmoothGrad's top token, [MASK] comprehensiveness share of the best method's", .. models.Select(m => F(m.Verdict.Behaviour.SmoothComprehensivenessShare!.Value))],
            ]);
        return new ReportTable("Manipulation signals", ["signal", .. models.Select(m => m.Model)], signals);
    }
}
