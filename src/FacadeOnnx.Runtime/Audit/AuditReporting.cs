using FacadeOnnx.Runtime.Reports;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Audit;

/// <summary>
/// Stage 5 of an audit: the report (with sample sentences for the heatmaps) and its three renderings, report.json for
/// machines, report.md and report.html for people, each written atomically.
/// </summary>
public static class AuditReporting
{
    public const string Json = "report.json", Markdown = "report.md", Html = "report.html";

    public static void Write(AuditReport report, string folder)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, Json), report.ToJson());
        AtomicFile.WriteAllText(Path.Combine(folder, Markdown), MarkdownReport.Render(report));
        AtomicFile.WriteAllText(Path.Combine(folder, Html), HtmlReport.Render(report));
    }

    /// <summary>The same three files for a SQuAD audit (<see cref="QuestionAnswering.SpanAudit"/>).</summary>
    public static void Write(QuestionAnswering.SpanAuditReport report, string folder)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, Json), report.ToJson());
        AtomicFile.WriteAllText(Path.Combine(folder, Markdown), report.ToMarkdown());
        AtomicFile.WriteAllText(Path.Combine(folder, Html), report.ToHtml());
    }

    /// <summary>Up to <paramref name="count"/> sentences spread evenly over the audit, with every model's saliency,
    /// each numbered by its record index.</summary>
    public static List<SampleSentence> Samples(IReadOnlyList<TokenizedInput> inputs, IReadOnlyList<int> recordIndices,
        IReadOnlyDictionary<string, SentenceRecord[]> records, string[] labels, int count)
    {
        int n = Math.Min(count, inputs.Count);
        return Enumerable.Range(0, n).Select(k => k * inputs.Count / Math.Max(1, n)).Distinct().Select(i => new SampleSentence(
            recordIndices[i], inputs[i].Tokens,
            records.ToDictionary(kv => kv.Key, kv => kv.Value[i].Saliency),
            records.ToDictionary(kv => kv.Key, kv => $"{labels[kv.Value[i].Predicted]} ({kv.Value[i].Probability:P0})"))).ToList();
    }
}
