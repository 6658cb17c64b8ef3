using System.Globalization;
using System.Net;
using System.Text;
using FacadeOnnx.Runtime.Saliency;

namespace FacadeOnnx.Runtime.Reports;

/// <summary>One row of a heatmap: a label (a method, or a model and a method), the tokens and their normalized scores.</summary>
public sealed record HeatmapRow(string Label, IReadOnlyList<string> Tokens, IReadOnlyList<float> Scores);

/// <summary>
/// Saliency maps as HTML: each row a method, each token a box shaded by its normalized score (white to red, scaled to
/// the row's largest), with the score in a tooltip. Self-contained (inline CSS, no scripts), so a report opens anywhere.
/// </summary>
public static class HeatmapHtml
{
    public const string Style =
        "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}" +
        "td,th{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}" +
        ".tok{display:inline-block;padding:2px 4px;margin:1px;border-radius:3px;font-family:ui-monospace,monospace}" +
        ".method{font-weight:600;white-space:nowrap}.note{color:#666;font-size:90%}";

    /// <summary>The rows of one input (a &lt;table&gt;), for pages that show many inputs.</summary>
    public static string Table(IReadOnlyList<HeatmapRow> rows, string? caption = null)
    {
        var html = new StringBuilder("<table>");
        if (caption != null) html.Append("<caption>").Append(WebUtility.HtmlEncode(caption)).Append("</caption>");
        foreach (var row in rows)
        {
            html.Append("<tr><td class=\"method\">").Append(WebUtility.HtmlEncode(row.Label)).Append("</td><td>");
            float max = Math.Max(row.Scores.Max(), 1e-12f);
            for (int t = 0; t < row.Tokens.Count; t++)
            {
                int fade = (int)Math.Round(255 * (1 - row.Scores[t] / max));
                string score = row.Scores[t].ToString("F3", CultureInfo.InvariantCulture);
                html.Append($"<span class=\"tok\" style=\"background:rgb(255,{fade},{fade})\" title=\"{score}\">")
                    .Append(WebUtility.HtmlEncode(row.Tokens[t])).Append("</span>");
            }
            html.Append("</td></tr>");
        }
        return html.Append("</table>").ToString();
    }

    public static string Page(string title, string summary, IReadOnlyList<SaliencyMap> maps) => Page(title, summary, [(null, maps)]);

    /// <summary>A page of many inputs: a table of each input's maps, under its caption.</summary>
    public static string Page(string title, string summary, IEnumerable<(string? Caption, IReadOnlyList<SaliencyMap> Maps)> inputs) =>
        $"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{WebUtility.HtmlEncode(title)}</title>" +
        $"<style>{Style}</style></head><body><h1>{WebUtility.HtmlEncode(title)}</h1><p>{WebUtility.HtmlEncode(summary)}</p>" +
        string.Concat(inputs.Select(input => Table(input.Maps.Select(m => new HeatmapRow(m.Method, m.Tokens, m.Normalized)).ToArray(), input.Caption))) + "<p class=\"note\">Shading: normalized saliency |a<sub>t</sub>| / &Sigma;|a|, white = 0, red = the row's largest; hover a token for its score.</p></body></html>";
}
