using System.Text;
using FacadeOnnx.Runtime.Audit;

namespace FacadeOnnx.Runtime.Reports;

/// <summary>report.md: the audit's tables in Markdown (and any other report's tables, such as `merge --evaluate`'s).</summary>
public static class MarkdownReport
{
    public static string Render(AuditReport report)
    {
        var md = new StringBuilder();
        md.AppendLine($"# Audit: {report.Task} {report.Split}, {report.Model.Sentences} {(report.Input != null ? "texts" : "sentences")}, target {report.Target}");
        md.AppendLine();
        foreach (var m in ReportTables.Models(report))
            md.AppendLine($"- {m.Role}: `{m.Path}` (sha256 {m.Sha256[..12]}…, {m.Kind}, {m.Seconds:F0} s)");
        if (report.Input is { } input) md.AppendLine($"- input: `{input.Path}` ({input.Describe()})");
        if (report.Truncation is { } truncation) md.AppendLine($"- truncation: {truncation.Describe()}");
        md.AppendLine();
        return md.Append(Tables(ReportTables.All(report))).ToString();
    }

    /// <summary>Tables as Markdown sections: a heading, the table, its note.</summary>
    public static string Tables(IEnumerable<ReportTable> tables)
    {
        var md = new StringBuilder();
        foreach (var table in tables)
        {
            md.AppendLine($"## {table.Title}").AppendLine();
            md.AppendLine("| " + string.Join(" | ", table.Header) + " |");
            md.AppendLine("|" + string.Concat(table.Header.Select(_ => "---|")));
            foreach (var row in table.Rows) md.AppendLine("| " + string.Join(" | ", row.Select(c => c.Replace("|", "\\|"))) + " |");
            if (table.Note != null) md.AppendLine().AppendLine(table.Note);
            md.AppendLine();
        }
        return md.ToString();
    }
}
