using Json.Schema;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>Checks a report.json against docs/audit-report.schema.json (copied beside the tests).</summary>
public static class ReportSchema
{
    static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromFile(Path.Combine(AppContext.BaseDirectory, "audit-report.schema.json")));

    /// <summary>Every violation as "location: message"; empty when the report follows the schema.</summary>
    public static string[] Violations(string reportJson)
    {
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(reportJson));
        var result = Schema.Value.Evaluate(json.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        return result.IsValid ? [] : result.Details?.Where(d => d.Errors != null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).ToArray() ?? ["invalid"];
    }
}
