using System.Globalization;
using System.Net;
using System.Text;
using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Runtime.Faithfulness;
using FacadeOnnx.Runtime.Metrics;
using FacadeOnnx.Runtime.QuestionAnswering;

namespace FacadeOnnx.Runtime.Reports;

/// <summary>report.html: the tables, mean deletion curves and histograms of reduced lengths and flips (inline SVG), and side-by-side heatmaps of
/// sample sentences for both models. Self-contained: no scripts, no external files.</summary>
public static class HtmlReport
{
    public static string Render(AuditReport report)
    {
        var models = ReportTables.Models(report);
        var items = models.Select(m => $"{E(m.Role)}: <code>{E(m.Path)}</code> — {Verdict(m.Verdict)}").ToList();
        if (report.Input is { } input) items.Add($"input: <code>{E(input.Path)}</code> ({E(input.Describe())})");
        if (report.Truncation is { } truncation) items.Add($"truncation: {E(truncation.Describe())}");
        return Page($"Audit: {report.Task} {report.Split}, {report.Model.Sentences} {(report.Input != null ? "texts" : "sentences")}", items,
            ReportTables.All(report), SvgDeletionCurves.Section(models),
            models.All(m => m.Reduction != null && m.HotFlip != null) ? models.Select(m => (m.Role, m.Reduction!, m.HotFlip!)).ToArray() : [],
            report.Samples, ("sentence", "text"), $"Written {report.CreatedAt} by {report.Tool} {report.Version}; every number is in report.json.");
    }

    /// <summary>A SQuAD audit: its tables, deletion curves over the question, histograms, and heatmaps of sample questions' windows.</summary>
    public static string Render(SpanAuditReport report)
    {
        var items = report.Models.Select(m => $"{E(m.Name)}{(m.Verdict is { } v ? " — " + Verdict(v) : "")}").ToList();
        var curves = SvgDeletionCurves.Section(report.FaithfulnessByModel(),
            "p(answer span)", "the probability of the predicted answer span as question tokens are removed most-salient-first");
        var histograms = report.Models.All(m => m.Reduction != null && m.HotFlip != null)
            ? report.Models.Select(m => (m.Name, m.Reduction!, m.HotFlip!)).ToArray() : [];
        return Page($"Audit: SQuAD {report.Split}, {report.Questions} questions", items, report.Tables(), curves, histograms, report.Samples, ("question", "question"),
            "Every number is in report.json.");
    }

    static string Page(string title, IEnumerable<string> items, IEnumerable<ReportTable> tables, string curves,
        IReadOnlyList<(string Role, ReductionSummary Reduction, HotFlipSummary HotFlip)> histograms, IEnumerable<SampleSentence> samples, (string Caption, string Audited) sampleNoun, string footer)
    {
        var html = new StringBuilder();
        html.Append($"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{E(title)}</title><style>{HeatmapHtml.Style}" +
                    ".bad{color:#b00020;font-weight:600}.good{color:#1b5e20;font-weight:600}.charts{display:flex;flex-wrap:wrap;gap:2em}</style></head><body>");
        html.Append($"<h1>{E(title)}</h1><ul>").Append(string.Concat(items.Select(i => $"<li>{i}</li>"))).Append("</ul>");
        foreach (var table in tables)
        {
            html.Append($"<h2>{E(table.Title)}</h2><table><tr>").Append(string.Concat(table.Header.Select(h => $"<th>{E(h)}</th>"))).Append("</tr>");
            foreach (var row in table.Rows) html.Append("<tr>").Append(string.Concat(row.Select(c => $"<td>{E(c)}</td>"))).Append("</tr>");
            html.Append("</table>");
            if (table.Note != null) html.Append($"<p class=\"note\">{E(table.Note)}</p>");
        }
        html.Append(curves);
        if (histograms.Count > 0)
        {
            html.Append("<h2>Histograms</h2><div class=\"charts\">");
            foreach (var (role, reduction, hotFlip) in histograms)
            {
                html.Append(SvgHistogram.Render($"{role}: reduced length (word pieces)", reduction.ReducedLengthHistogram));
                html.Append(SvgHistogram.Render($"{role}: flips needed (successful attacks)", hotFlip.FlipHistogram));
            }
            html.Append("</div>");
        }
        html.Append($"<h2>Sample {sampleNoun.Caption}s</h2><p class=\"note\">Each block is one audited {sampleNoun.Audited}, numbered by its record index; " +
                    "rows are methods, one row per model. Shading: normalized saliency, white = 0, red = the row's largest.</p>");
        foreach (var sample in samples)
        {
            var rows = sample.Saliency.SelectMany(model => model.Value.Select(method => new HeatmapRow($"{model.Key} {method.Key}", sample.Tokens, method.Value))).ToArray();
            string caption = $"{sampleNoun.Caption} {sample.Index}: " + string.Join(", ", sample.Predictions.Select(p => $"{p.Key} predicts {p.Value}"));
            html.Append(HeatmapHtml.Table(rows, caption));
        }
        html.Append($"<p class=\"note\">{E(footer)}</p></body></html>");
        return html.ToString();
    }

    static string Verdict(ManipulationVerdict verdict) => $"<span class=\"{(verdict.Untrusted ? "bad" : "good")}\">{E(verdict.Name)}</span>";

    static string E(string text) => WebUtility.HtmlEncode(text);
}

/// <summary>A small bar chart as inline SVG.</summary>
public static class SvgHistogram
{
    public static string Render(string title, IReadOnlyDictionary<int, int> counts)
    {
        const int width = 360, height = 180, left = 30, bottom = 30, top = 24;
        var svg = new StringBuilder($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{WebUtility.HtmlEncode(title)}\">");
        svg.Append($"<text x=\"{left}\" y=\"14\" font-size=\"12\">{WebUtility.HtmlEncode(title)}</text>");
        if (counts.Count == 0) return svg.Append($"<text x=\"{left}\" y=\"60\" font-size=\"12\">no data</text></svg>").ToString();
        int min = counts.Keys.Min(), max = counts.Keys.Max(), peak = counts.Values.Max();
        int bins = max - min + 1;
        double barWidth = (width - left - 10) / (double)bins;
        for (int k = min; k <= max; k++)
        {
            int c = counts.TryGetValue(k, out var v) ? v : 0;
            double h = (height - bottom - top) * c / (double)peak;
            double x = left + (k - min) * barWidth;
            svg.Append(string.Create(CultureInfo.InvariantCulture,
                $"<rect x=\"{x:F1}\" y=\"{height - bottom - h:F1}\" width=\"{Math.Max(1, barWidth - 1):F1}\" height=\"{h:F1}\" fill=\"#c62828\"><title>{k}: {c}</title></rect>"));
            if (bins <= 20 || (k - min) % (bins / 10 + 1) == 0)
                svg.Append(string.Create(CultureInfo.InvariantCulture, $"<text x=\"{x + barWidth / 2:F1}\" y=\"{height - bottom + 14}\" font-size=\"10\" text-anchor=\"middle\">{k}</text>"));
        }
        svg.Append($"<text x=\"4\" y=\"{top + 8}\" font-size=\"10\">{peak}</text>");
        return svg.Append("</svg>").ToString();
    }
}
