using System.Globalization;
using System.Net;
using System.Text;
using FacadeOnnx.Runtime.Audit;

namespace FacadeOnnx.Runtime.Reports;

/// <summary>report.html: the tables, mean deletion curves and histograms of reduced lengths and flips (inline SVG), and side-by-side heatmaps of
/// sample sentences for both models. Self-contained: no scripts, no external files.</summary>
public static class HtmlReport
{
    public static string Render(AuditReport report)
    {
        var html = new StringBuilder();
        string title = $"Audit: {report.Task} {report.Split}, {report.Model.Sentences} {(report.Input != null ? "texts" : "sentences")}";
        html.Append($"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{E(title)}</title><style>{HeatmapHtml.Style}" +
                    ".bad{color:#b00020;font-weight:600}.good{color:#1b5e20;font-weight:600}.charts{display:flex;flex-wrap:wrap;gap:2em}</style></head><body>");
        html.Append($"<h1>{E(title)}</h1><ul>");
        foreach (var m in ReportTables.Models(report))
            html.Append($"<li>{E(m.Role)}: <code>{E(m.Path)}</code> — <span class=\"{(m.Verdict.Untrusted ? "bad" : "good")}\">{E(m.Verdict.Name)}</span></li>");
        if (report.Input is { } input) html.Append($"<li>input: <code>{E(input.Path)}</code> ({E(input.Describe())})</li>");
        if (report.Truncation is { } truncation) html.Append($"<li>truncation: {E(truncation.Describe())}</li>");
        html.Append("</ul>");
        foreach (var table in ReportTables.All(report))
        {
            html.Append($"<h2>{E(table.Title)}</h2><table><tr>").Append(string.Concat(table.Header.Select(h => $"<th>{E(h)}</th>"))).Append("</tr>");
            foreach (var row in table.Rows) html.Append("<tr>").Append(string.Concat(row.Select(c => $"<td>{E(c)}</td>"))).Append("</tr>");
            html.Append("</table>");
            if (table.Note != null) html.Append($"<p class=\"note\">{E(table.Note)}</p>");
        }
        var models = ReportTables.Models(report);
        html.Append(SvgDeletionCurves.Section(models));
        if (models.All(m => m.Reduction != null && m.HotFlip != null))
        {
            html.Append("<h2>Histograms</h2><div class=\"charts\">");
            foreach (var m in models)
            {
                html.Append(SvgHistogram.Render($"{m.Role}: reduced length (word pieces)", m.Reduction!.ReducedLengthHistogram));
                html.Append(SvgHistogram.Render($"{m.Role}: flips needed (successful attacks)", m.HotFlip!.FlipHistogram));
            }
            html.Append("</div>");
        }
        html.Append("<h2>Sample sentences</h2><p class=\"note\">Each block is one audited text, numbered by its record index; rows are methods, one row per model. " +
                    "Shading: normalized saliency, white = 0, red = the row's largest.</p>");
        foreach (var sample in report.Samples)
        {
            var rows = sample.Saliency.SelectMany(model => model.Value.Select(method => new HeatmapRow($"{model.Key} {method.Key}", sample.Tokens, method.Value))).ToArray();
            string caption = $"sentence {sample.Index}: " + string.Join(", ", sample.Predictions.Select(p => $"{p.Key} predicts {p.Value}"));
            html.Append(HeatmapHtml.Table(rows, caption));
        }
        html.Append($"<p class=\"note\">Written {E(report.CreatedAt)} by {E(report.Tool)} {E(report.Version)}; every number is in report.json.</p></body></html>");
        return html.ToString();
    }

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
