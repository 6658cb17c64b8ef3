using System.CommandLine;
using FacadeOnnx.Runtime;
using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Runtime.Saliency;

namespace FacadeOnnx.Cli.Commands;

/// <summary>What `facade audit` and `facade audit merge` print when the reports are written, and the --gate exit code.</summary>
public static class AuditOutput
{
    public static Option<bool> Gate() => new("--gate") { Description = "Exit with code 3 when the verdict says a model's explanations cannot be trusted (for CI/CD gates)." };

    public static int Print(AuditReport report, string folder, bool gate)
    {
        if (report.Truncation is { TextsCut: > 0 } truncation) Console.WriteLine($"note: {truncation.Describe()}");
        foreach (var m in new[] { report.Model, report.Compare }.OfType<ModelAudit>())
        {
            var headline = AuditReport.Headline(m, report.Target);
            Console.WriteLine($"{m.Role}: {Path.GetFileName(m.Path)}  {(m.Accuracy is double accuracy ? $"accuracy {accuracy:F3}  " : "")}P@1 ({report.Target}) " +
                              string.Join(" ", headline.Where(kv => kv.Key != AnalysisAttribute.NameOf<LeaveOneOut>()).Select(kv => $"{kv.Key} {kv.Value.HitRate1:F3}")) + $"  verdict: {m.Verdict.Name}");
            foreach (var reason in m.Verdict.Reasons) Console.WriteLine($"    {reason}");
        }
        Console.WriteLine($"Reports: {Path.GetFullPath(Path.Combine(folder, AuditReporting.Html))} (and {AuditReporting.Markdown}, {AuditReporting.Json})");
        return gate && report.Model.Verdict.Untrusted ? 3 : 0;
    }
}
