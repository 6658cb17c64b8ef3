using System.Diagnostics;
using System.Text.Json;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Metrics;
using FacadeOnnx.Runtime.Reports;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.QuestionAnswering;

/// <summary>One span model audited on SQuAD questions: official EM and F1, span agreement with the reference model, and
/// per Facade target (first question token, question stop words) and method the saliency metrics of docs/method.md 12.1.</summary>
public sealed record SpanAuditModel(string Name, double ExactMatch, double F1, double SpanAgreement,
    Dictionary<string, Dictionary<string, TargetMetrics>> Saliency, Dictionary<string, double> Seconds);

/// <summary>What <see cref="SpanAudit"/> measured, with its tables.</summary>
public sealed record SpanAuditReport(string Split, int Questions, string ReferenceModel, IReadOnlyList<SpanAuditModel> Models)
{
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public List<ReportTable> Tables()
    {
        var tables = new List<ReportTable>
        {
            new($"{Split}, {Questions} questions", ["model", "EM", "F1", $"same answer span as {ReferenceModel}"],
                Models.Select(m => new[] { m.Name, ReportTables.F(m.ExactMatch, "F2"), ReportTables.F(m.F1, "F2"), ReportTables.F(m.SpanAgreement, "F4") }).ToList()),
        };
        foreach (string target in Models.SelectMany(m => m.Saliency.Keys).Distinct())
            tables.Add(ReportTables.Saliency($"Saliency on the {target} target (the window each answer was read from)",
                Models.Select(m => (m.Name, (IReadOnlyDictionary<string, TargetMetrics>)m.Saliency[target])).ToArray()));
        return tables;
    }

    public string ToMarkdown() => MarkdownReport.Tables(Tables());
}

/// <summary>
/// Audits span (SQuAD) gradient models through the engine alone: every question is cut into each model's windows
/// and answered from its best-scoring window (official EM and F1 against the gold answers); the window the answer came
/// from is explained by every method, at the answer span, and scored for the question's first piece and the question's
/// stop words (docs/method.md 12.1, the paper's QA metrics look at the question). The first model is the reference for
/// span agreement (the same window and span).
/// </summary>
public static class SpanAudit
{
    public const string FirstToken = "first-token", QuestionStopWords = "stop-words(question)";

    public static SpanAuditReport Run(IReadOnlyList<(string Name, GradientEngine Engine)> models, IReadOnlyList<SquadQuestion> questions, string split,
        IReadOnlyList<SaliencyMethod> methods, StopWords stopWords, TextWriter? log = null)
    {
        if (models.Count == 0) throw new ArgumentException("No model to audit.", nameof(models));
        if (questions.Count == 0) throw new FacadeException($"No questions to audit in {split}.");
        var audited = new List<SpanAuditModel>();
        string[]? reference = null;
        foreach (var (name, engine) in models)
        {
            if (!engine.Model.IsSpan) throw new FacadeException($"'{engine.Model.Path}' is a classifier; a SQuAD audit needs span models (`facade export --gradients` of a squad checkpoint).");
            var seconds = new Dictionary<string, double>();
            var clock = Stopwatch.StartNew();
            var qa = engine.Model.Qa with { MaxLength = engine.MaxLength };
            var windows = questions.Select(q => qa.Windows(engine.Tokenizer, q)).ToArray();
            var flat = windows.SelectMany(w => w.Select(x => x.Input)).ToArray();
            var predictions = engine.Predict(flat);
            var answers = new QaAnswer[questions.Count];
            int offset = 0;
            for (int q = 0; q < questions.Count; q++)
            {
                answers[q] = QaAnswer.Best(windows[q], predictions.Skip(offset).Take(windows[q].Count).ToArray(), questions[q].Context);
                offset += windows[q].Count;
            }
            var score = SquadMetrics.Evaluate(questions, questions.Select((x, i) => (x.Id, answers[i].Text)).ToDictionary(p => p.Id, p => p.Text));
            string[] spans = answers.Select(a => $"{a.Window.WindowIndex}:{a.Prediction.Span!.Value.Start}:{a.Prediction.Span!.Value.End}").ToArray();
            reference ??= spans;
            double agreement = spans.Zip(reference, (a, b) => a == b ? 1.0 : 0.0).Average();
            seconds["predict"] = clock.Elapsed.TotalSeconds;
            log?.WriteLine($"{name,-8} EM {score.ExactMatch:F2} F1 {score.F1:F2}, same span as {models[0].Name} {agreement:F4} ({questions.Count} questions, {flat.Length} windows)");

            var inputs = answers.Select(a => a.Window.Input).ToArray();
            var explained = answers.Select(a => a.Prediction).ToArray();
            var targets = new Dictionary<string, IReadOnlyList<IReadOnlyList<int>>>
            {
                [FirstToken] = inputs.Select(x => (IReadOnlyList<int>)[TokenizedInput.FirstTokenPosition]).ToArray(),
                [QuestionStopWords] = inputs.Select(x => stopWords.Positions(x, Segment.First)).ToArray(),
            };
            var saliency = targets.Keys.ToDictionary(t => t, _ => new Dictionary<string, TargetMetrics>());
            foreach (var method in methods)
            {
                clock.Restart();
                var maps = method.Explain(engine, inputs, explained);
                seconds[method.Name] = clock.Elapsed.TotalSeconds;
                var normalized = maps.Select(m => (IReadOnlyList<float>)m.Normalized).ToArray();
                foreach (var (target, positions) in targets)
                {
                    var m = SaliencyMetrics.Evaluate(normalized, positions);
                    saliency[target][method.Name] = m;
                    log?.WriteLine($"{name,-8} {method.Name,-8} {target,-22} P@1 {m.HitRate1:F4}  MRR {m.MeanReciprocalRank:F4}  attribution {m.MeanAttribution:F4}  ({seconds[method.Name]:F0} s)");
                }
            }
            audited.Add(new SpanAuditModel(name, score.ExactMatch, score.F1, agreement, saliency, seconds));
        }
        return new SpanAuditReport(split, questions.Count, models[0].Name, audited);
    }
}
