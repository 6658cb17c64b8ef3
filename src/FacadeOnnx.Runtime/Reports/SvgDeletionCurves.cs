using System.Globalization;
using System.Net;
using System.Text;
using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Runtime.Faithfulness;
using FacadeOnnx.Runtime.Saliency;

namespace FacadeOnnx.Runtime.Reports;

/// <summary>
/// The mean deletion curves of an audit as inline SVG, one chart per method with a line per model: the probability of
/// the predicted class against the fraction of tokens removed most-salient-first. No scripts or external files, so the
/// report stays self-contained.
/// </summary>
public static class SvgDeletionCurves
{
    /// <summary>Line colours by model role, distinct from the report's reds (histograms, heatmaps).</summary>
    public static readonly IReadOnlyDictionary<string, string> Colours = new Dictionary<string, string>
    {
        ["model"] = "#1565c0",
        ["compare"] = "#ef6c00",
    };

    /// <summary>The section (heading, one chart per method, a note), or empty when a model was audited without the measures.</summary>
    public static string Section(IReadOnlyList<ModelAudit> models) =>
        Section(models.Select(m => (m.Role, (IReadOnlyDictionary<string, FaithfulnessMetrics>?)m.Faithfulness)).ToArray(), "p(predicted class)",
            "the probability of the predicted class as tokens are removed most-salient-first ([CLS]/[SEP] kept)");

    /// <summary>
    /// The same for any models (reference first): <paramref name="probability"/> labels the y axis and
    /// <paramref name="what"/> says in the note what was removed and whose probability is drawn. Roles without a colour
    /// of their own take the compare colour for the first model and the model colour for the others.
    /// </summary>
    public static string Section(IReadOnlyList<(string Role, IReadOnlyDictionary<string, FaithfulnessMetrics>? Faithfulness)> models, string probability, string what)
    {
        if (models.Count == 0 || models.Any(m => m.Faithfulness == null)) return "";
        var html = new StringBuilder("<h2>Deletion curves</h2><div class=\"charts\">");
        var colours = models.Select((m, i) => Colours.TryGetValue(m.Role, out var c) ? c : Colours[i == 0 ? "compare" : "model"]).ToArray();
        foreach (var method in SaliencyMethods.Names.Where(n => models.All(m => m.Faithfulness!.ContainsKey(n))))
            html.Append(Chart(method, probability, models.Select((m, i) => (m.Role, colours[i], m.Faithfulness![method])).ToArray()));
        return html.Append($"</div><p class=\"note\">Mean over the audited texts of {E(what)}; each text's curve is taken at every 5% of its tokens. " +
                           "A curve that falls early means the method ranks first the tokens the prediction needs.</p>").ToString();
    }

    static string Chart(string method, string probability, IReadOnlyList<(string Role, string Colour, FaithfulnessMetrics Metrics)> lines)
    {
        // The plot, its axis labels, then one legend row per model below, so no legend ever covers a curve.
        const int width = 360, left = 44, right = 10, top = 24, plot = 150, legendRow = 14;
        int axis = top + plot, height = axis + 36 + legendRow * lines.Count;
        double X(double fraction) => left + fraction * (width - left - right);
        double Y(double probability) => axis - probability * plot;
        string title = $"{SaliencyMethods.Title(method)}: deletion curve";
        var svg = new StringBuilder($"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"deletion-curves\" data-method=\"{E(method)}\" " +
                                    $"width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{E(title)}\">");
        svg.Append($"<text x=\"{left}\" y=\"14\" font-size=\"12\">{E(title)}</text>");
        svg.Append(N($"<rect x=\"{left}\" y=\"{top}\" width=\"{width - left - right}\" height=\"{plot}\" fill=\"none\" stroke=\"#999\"/>"));
        foreach (double tick in new[] { 0, 0.5, 1 })
        {
            svg.Append(N($"<text x=\"{X(tick):F1}\" y=\"{axis + 13}\" font-size=\"10\" text-anchor=\"middle\">{tick:0.#}</text>"));
            svg.Append(N($"<text x=\"{left - 4}\" y=\"{Y(tick) + 3:F1}\" font-size=\"10\" text-anchor=\"end\">{tick:0.#}</text>"));
        }
        svg.Append(N($"<text x=\"{X(0.5):F1}\" y=\"{axis + 26}\" font-size=\"10\" text-anchor=\"middle\">fraction of tokens removed</text>"));
        svg.Append(N($"<text transform=\"translate(12 {Y(0.5):F1}) rotate(-90)\" font-size=\"10\" text-anchor=\"middle\">{E(probability)}</text>"));
        for (int i = 0; i < lines.Count; i++)
        {
            var (role, colour, metrics) = lines[i];
            string points = string.Join(" ", metrics.MeanDeletionCurve.Where(p => double.IsFinite(p.Probability))
                .Select(p => N($"{X(p.Fraction):F1},{Y(p.Probability):F1}")));
            svg.Append($"<polyline class=\"deletion-curve\" data-model=\"{E(role)}\" points=\"{points}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2.5\">" +
                       N($"<title>{E(role)}: area {metrics.DeletionArea:F3}</title></polyline>"));
            int legendY = axis + 36 + legendRow * i;
            svg.Append(N($"<line x1=\"{left}\" y1=\"{legendY - 4}\" x2=\"{left + 16}\" y2=\"{legendY - 4}\" stroke=\"{colour}\" stroke-width=\"2.5\"/>"));
            svg.Append(N($"<text x=\"{left + 22}\" y=\"{legendY}\" font-size=\"10\">{E(role)}: deletion area {metrics.DeletionArea:F3}</text>"));
        }
        return svg.Append("</svg>").ToString();
    }

    static string N(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    static string E(string text) => WebUtility.HtmlEncode(text);
}
