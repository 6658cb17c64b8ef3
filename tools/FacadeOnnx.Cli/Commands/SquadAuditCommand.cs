using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.QuestionAnswering;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade audit --task squad`: the engine's audit of span models on dev-b questions (<see cref="SpanAudit"/>).</summary>
public static class SquadAuditCommand
{
    /// <returns>3 with <paramref name="gate"/> when the audited model is not trusted, else 0 (as `facade audit --gate`).</returns>
    public static int Run(AuditOptions options, string modelPath, string? comparePath, bool gate)
    {
        if (options.Input != null) throw new FacadeException("--input files hold texts for classifiers; a SQuAD audit reads dev-b questions.");
        string root = RepositoryPaths.ResolveDataRoot(options.DataRoot);
        var questions = Squad.Load(root, "dev-b");
        if (options.Limit is int n) questions = questions.Take(n).ToArray();
        var engineOptions = options.Engine with { Log = options.Engine.Log ?? Console.Error };
        using var model = GradientEngine.Load(modelPath, engineOptions);
        using var compare = comparePath == null ? null : GradientEngine.Load(comparePath, engineOptions);
        var models = compare == null ? new[] { ("model", model) } : [("compare", compare), ("model", model)];
        var methods = SaliencyMethods.Parse("simple,smooth,ig,loo", options.Saliency);
        var spanOptions = new SpanAuditOptions
        {
            Attacks = options.Attacks, Faithfulness = options.Faithfulness, Thresholds = options.Thresholds, LeaveOneOut = options.Saliency.LeaveOneOut,
            HeatmapSamples = options.HeatmapSamples,
        };
        var report = SpanAudit.Run(models, questions, "squad/dev-b", methods, StopWords.Load(root), Console.Error, spanOptions);
        AuditReporting.Write(report, options.OutputFolder);
        Console.WriteLine(report.ToMarkdown());
        Console.Error.WriteLine($"wrote {Path.Combine(options.OutputFolder, AuditReporting.Markdown)}, {AuditReporting.Html} and {AuditReporting.Json}");
        var audited = report.Models[^1];
        return gate && audited.Verdict is { Untrusted: true } ? 3 : 0;
    }
}
