using System.Diagnostics;
using System.Text.Json;
using FacadeOnnx.Runtime.Attacks;
using FacadeOnnx.Runtime.Audit;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Faithfulness;
using FacadeOnnx.Runtime.Metrics;
using FacadeOnnx.Runtime.Reports;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.QuestionAnswering;

/// <summary>What a SQuAD audit runs besides the saliency methods.</summary>
public sealed record SpanAuditOptions
{
    /// <summary>Input reduction and HotFlip on the question.</summary>
    public bool Attacks { get; init; } = true;
    /// <summary>Comprehensiveness, sufficiency and deletion curves of every method over the question's tokens (about 25
    /// forward passes per method and question, so several times leave-one-out's cost).</summary>
    public bool Faithfulness { get; init; } = true;
    /// <summary>Beam 3: the reference's QA scripts (docs/method.md 10).</summary>
    public InputReductionOptions Reduction { get; init; } = new() { BeamSize = 3 };
    public HotFlipOptions HotFlip { get; init; } = new();
    public LeaveOneOutOptions LeaveOneOut { get; init; } = new();
    public VerdictThresholds Thresholds { get; init; } = new();
    /// <summary>Questions whose answer windows report.html shows as heatmaps (the first ones every model read from the same window).</summary>
    public int HeatmapSamples { get; init; } = 8;
}

/// <summary>One span model audited on SQuAD questions: official EM and F1, span agreement with the reference model, per
/// Facade target (first question token, question stop words) and method the saliency metrics of docs/method.md 12.1,
/// the verdict (null when simple gradient or SmoothGrad was not run), and the attacks on the question.</summary>
public sealed record SpanAuditModel(string Name, double ExactMatch, double F1, double SpanAgreement,
    Dictionary<string, Dictionary<string, TargetMetrics>> Saliency, Dictionary<string, double> Seconds)
{
    public ManipulationVerdict? Verdict { get; init; }
    public ReductionSummary? Reduction { get; init; }
    /// <summary>Mean IoU of this model's reduced questions with the reference model's (null for the reference).</summary>
    public double? ReductionIoU { get; init; }
    public HotFlipSummary? HotFlip { get; init; }
    /// <summary>Per method, over the question's tokens; null when the audit ran without the measures.</summary>
    public Dictionary<string, FaithfulnessMetrics>? Faithfulness { get; init; }
}

/// <summary>What <see cref="SpanAudit"/> measured, with its tables.</summary>
public sealed record SpanAuditReport(string Split, int Questions, string ReferenceModel, IReadOnlyList<SpanAuditModel> Models)
{
    /// <summary>Sample questions for the heatmaps: the answer window's pieces, each model's normalized saliency per
    /// method and its answer text.</summary>
    public List<SampleSentence> Samples { get; init; } = [];

    /// <summary>The classification report's JSON settings: snake_case, verdicts as words, NaN written out.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, AuditReport.Json);

    public List<ReportTable> Tables()
    {
        var tables = new List<ReportTable>();
        if (Models.All(m => m.Verdict != null))
            tables.Add(ReportTables.Verdicts(Models.Select(m => (m.Name, m.Verdict!)).ToArray(),
                "manipulated: the graph shows a merge; suspicious: gradients point at question tokens whose removal barely changes the answer's probability (leave-one-out)."));
        tables.Add(new($"{Split}, {Questions} questions", ["model", "EM", "F1", $"same answer span as {ReferenceModel}"],
            Models.Select(m => new[] { m.Name, ReportTables.F(m.ExactMatch, "F2"), ReportTables.F(m.F1, "F2"), ReportTables.F(m.SpanAgreement, "F4") }).ToList()));
        foreach (string target in Models.SelectMany(m => m.Saliency.Keys).Distinct())
            tables.Add(ReportTables.Saliency($"Saliency on the {target} target (the window each answer was read from)",
                Models.Select(m => (m.Name, (IReadOnlyDictionary<string, TargetMetrics>)m.Saliency[target])).ToArray()));
        if (FaithfulnessTable.Of(FaithfulnessByModel(),
                "As in classification audits (ERASER AOPC over the top 1, 5, 10, 20 and 50%; deletion area), over the question's word pieces, " +
                "for the probability of the predicted answer span (read as many positions left as tokens were removed).") is { } faithfulness)
            tables.Add(faithfulness);
        if (Models.All(m => m.Reduction != null))
            tables.Add(ReportTables.Reduction(Models.Select(m => (m.Name, m.Reduction!)).ToArray(), Models.Select(m => m.ReductionIoU).LastOrDefault(v => v != null),
                "Question word pieces only; the answer span must not change (docs/method.md 10, 12.2)."));
        if (Models.All(m => m.HotFlip != null))
            tables.Add(ReportTables.HotFlip(Models.Select(m => (m.Name, m.HotFlip!)).ToArray(),
                "Flips in the question; success: the answer span changes. Rates over all questions (docs/method.md 11, 12.3)."));
        if (Models.All(m => m.Verdict != null))
            tables.Add(ReportTables.Signals(Models.Select(m => (m.Name, m.Verdict!)).ToArray()));
        return tables;
    }

    /// <summary>Each model's faithfulness per method (null entries when the audit ran without the measures), as the
    /// table and the deletion curves read them.</summary>
    public IReadOnlyList<(string Model, IReadOnlyDictionary<string, FaithfulnessMetrics>? Metrics)> FaithfulnessByModel() =>
        Models.Select(m => (m.Name, (IReadOnlyDictionary<string, FaithfulnessMetrics>?)m.Faithfulness)).ToArray();

    public string ToMarkdown() => MarkdownReport.Tables(Tables());

    public string ToHtml() => HtmlReport.Render(this);
}

/// <summary>
/// Audits span (SQuAD) gradient models through the engine alone: every question is cut into each model's windows
/// and answered from its best-scoring window (official EM and F1 against the gold answers); the window the answer came
/// from is explained by every method, at the answer span, and scored for the question's first piece and the question's
/// stop words (docs/method.md 12.1, the paper's QA metrics look at the question). The first model is the reference for
/// span agreement (the same window and span). Leave-one-out over the question's tokens always runs, and with it the
/// verdict of docs/method.md 16 on the question's tokens; input reduction and HotFlip edit the question.
/// </summary>
public static class SpanAudit
{
    public const string FirstToken = "first-token", QuestionStopWords = "stop-words(question)";

    public static SpanAuditReport Run(IReadOnlyList<(string Name, GradientEngine Engine)> models, IReadOnlyList<SquadQuestion> questions, string split,
        IReadOnlyList<SaliencyMethod> methods, StopWords stopWords, TextWriter? log = null, SpanAuditOptions? options = null)
    {
        options ??= new SpanAuditOptions();
        string looName = AnalysisAttribute.NameOf<LeaveOneOut>();
        if (!methods.Any(m => m.Name == looName)) methods = [.. methods, new LeaveOneOut(options.LeaveOneOut)];
        if (models.Count == 0) throw new ArgumentException("No model to audit.", nameof(models));
        if (questions.Count == 0) throw new FacadeException($"No questions to audit in {split}.");
        var audited = new List<SpanAuditModel>();
        var samples = new List<SampleSentence>();
        string[]? reference = null;
        string[][]? referenceReductions = null;
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
            var mapsByMethod = new Dictionary<string, IReadOnlyList<SaliencyMap>>();
            foreach (var method in methods)
            {
                clock.Restart();
                var maps = mapsByMethod[method.Name] = method.Explain(engine, inputs, explained);
                seconds[method.Name] = clock.Elapsed.TotalSeconds;
                var normalized = maps.Select(m => (IReadOnlyList<float>)m.Normalized).ToArray();
                foreach (var (target, positions) in targets)
                {
                    var m = SaliencyMetrics.Evaluate(normalized, positions);
                    saliency[target][method.Name] = m;
                    log?.WriteLine($"{name,-8} {method.Name,-8} {target,-22} P@1 {m.HitRate1:F4}  MRR {m.MeanReciprocalRank:F4}  attribution {m.MeanAttribution:F4}  ({seconds[method.Name]:F0} s)");
                }
            }
            AddSamples(samples, name, inputs, answers, mapsByMethod, options.HeatmapSamples, first: audited.Count == 0);
            clock.Restart();
            var verdict = Judge(engine, inputs, mapsByMethod, options.Thresholds);
            seconds["verdict"] = clock.Elapsed.TotalSeconds;
            if (verdict != null)
                log?.WriteLine($"{name,-8} verdict {verdict.Name}: {string.Join("; ", verdict.Reasons)}");
            var model = new SpanAuditModel(name, score.ExactMatch, score.F1, agreement, saliency, seconds) { Verdict = verdict };
            if (options.Faithfulness)
            {
                clock.Restart();
                var scores = FaithfulnessMeasures.ByMethod(engine, mapsByMethod);
                seconds["faithfulness"] = clock.Elapsed.TotalSeconds;
                model = model with { Faithfulness = scores.ToDictionary(kv => kv.Key, kv => FaithfulnessMetrics.Of(kv.Value)) };
                log?.WriteLine($"{name,-8} faithfulness of {string.Join(", ", scores.Keys)} over the question ({seconds["faithfulness"]:F0} s)");
            }
            if (options.Attacks)
            {
                clock.Restart();
                var reductions = new InputReduction(options.Reduction).Run(engine, inputs, explained);
                seconds["reduction"] = clock.Elapsed.TotalSeconds;
                var reduced = reductions.Select(r => QuestionTokens(r.Original, r.KeptPositions)).ToArray();
                referenceReductions ??= reduced;
                clock.Restart();
                var flips = new HotFlip(options.HotFlip).Run(engine, inputs, explained);
                seconds["hotflip"] = clock.Elapsed.TotalSeconds;
                model = model with
                {
                    Reduction = ReductionMetrics.Summarize(inputs.Select(x => QuestionTokens(x, Enumerable.Range(0, x.Length).ToArray())).ToArray(), reduced, stopWords.Contains),
                    ReductionIoU = ReferenceEquals(reduced, referenceReductions) ? null : reduced.Zip(referenceReductions, (a, b) => ReductionMetrics.IoU(a, b)).Average(),
                    HotFlip = HotFlipMetrics.Summarize(flips.Select(f => new FlipOutcome(f.Success, f.Flips,
                        f.Trace.Select(t => stopWords.Contains(t.From)).ToArray(), f.Trace.Select(t => t.Position == TokenizedInput.FirstTokenPosition).ToArray())).ToArray()),
                };
                log?.WriteLine($"{name,-8} input reduction: question {model.Reduction.MeanOriginalLength:F2} -> {model.Reduction.MeanReducedLength:F2} pieces ({seconds["reduction"]:F0} s); " +
                               $"HotFlip: {model.HotFlip.AttackEffectiveness:P0} of answers changed ({seconds["hotflip"]:F0} s)");
            }
            audited.Add(model);
        }
        return new SpanAuditReport(split, questions.Count, models[0].Name, audited) { Samples = samples };
    }

    /// <summary>
    /// The first model picks the first <paramref name="count"/> questions as samples; every later model adds its maps and
    /// answer to a sample whose window it read too, and a sample it did not read from the same window is dropped, so
    /// every heatmap row of a sample is over the same pieces.
    /// </summary>
    static void AddSamples(List<SampleSentence> samples, string model, IReadOnlyList<TokenizedInput> inputs, IReadOnlyList<QaAnswer> answers,
        IReadOnlyDictionary<string, IReadOnlyList<SaliencyMap>> maps, int count, bool first)
    {
        if (first)
            samples.AddRange(Enumerable.Range(0, Math.Min(count, inputs.Count)).Select(i => new SampleSentence(i, inputs[i].Tokens.ToArray(), [], [])));
        samples.RemoveAll(s => !inputs[s.Index].Tokens.SequenceEqual(s.Tokens));
        foreach (var sample in samples)
        {
            sample.Saliency[model] = maps.ToDictionary(m => m.Key, m => m.Value[sample.Index].Normalized.ToArray());
            sample.Predictions[model] = $"\"{answers[sample.Index].Text}\"";
        }
    }

    /// <summary>
    /// The verdict of docs/method.md 16 for a span model: its graph's structure, and simple gradient and SmoothGrad
    /// against leave-one-out over the question's tokens (the part leave-one-out and the attacks edit). Null when either
    /// gradient method was not run.
    /// </summary>
    static ManipulationVerdict? Judge(GradientEngine engine, IReadOnlyList<TokenizedInput> inputs, IReadOnlyDictionary<string, IReadOnlyList<SaliencyMap>> maps,
        VerdictThresholds thresholds)
    {
        string simple = AnalysisAttribute.NameOf<SimpleGradient>(), smooth = AnalysisAttribute.NameOf<SmoothGrad>(), ig = AnalysisAttribute.NameOf<IntegratedGradients>();
        if (!maps.ContainsKey(simple) || !maps.ContainsKey(smooth)) return null;
        var loo = maps[AnalysisAttribute.NameOf<LeaveOneOut>()];
        var question = inputs.Select(x => AuditJudgement.ContentPositions(x, Segment.First)).ToArray();
        (double Agreement, double Overclaim) Compare(string method) => AuditJudgement.GradientAgainstLeaveOneOut(
            maps[method].Select((m, i) => ((IReadOnlyList<float>)m.Normalized, (IReadOnlyList<float>)loo[i].Raw, question[i])));
        var (simpleAgreement, simpleOverclaim) = Compare(simple);
        var (smoothAgreement, smoothOverclaim) = Compare(smooth);
        var integrated = maps.GetValueOrDefault(ig);
        double gap = integrated == null ? double.NaN : AuditJudgement.MedianCompletenessGap(integrated.Select(m => m.Diagnostics["completeness_gap"]));
        double meanSteps = integrated == null ? double.NaN : integrated.Average(m => m.Diagnostics["steps"]);
        double consensus = AuditJudgement.MethodConsensus(inputs.Select((_, i) => ((IReadOnlyCollection<float[]>)maps.Values.Select(m => m[i].Normalized).ToArray(), question[i])));
        var behaviour = new BehaviouralSignals(simpleAgreement, smoothAgreement, simpleOverclaim, smoothOverclaim, gap, inputs.Count, meanSteps,
            MethodConsensus: consensus);
        return ManipulationVerdict.Decide(StructuralForensics.Analyze(engine.Graph), behaviour, thresholds);
    }

    /// <summary>The question's word pieces among <paramref name="kept"/> positions of <paramref name="input"/>.</summary>
    static string[] QuestionTokens(TokenizedInput input, IReadOnlyList<int> kept) =>
        kept.Where(p => input.InSegment(p, Segment.First)).Select(p => input.Tokens[p]).ToArray();
}
