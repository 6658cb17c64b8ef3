using System.Diagnostics;
using FacadeOnnx.Runtime.Metrics;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Evaluation;
using FacadeOnnx.Training.Model;

namespace FacadeOnnx.Training.Facade;

/// <summary>What <see cref="FacadeEffect"/> measures: which saliency methods (simple, smooth, ig) on how many inputs.</summary>
public sealed record EffectOptions
{
    public IReadOnlyList<SaliencyMethod> Methods { get; init; } = [new SimpleGradient(), new SmoothGrad(), new IntegratedGradients()];
    /// <summary>Inputs per padded TorchSharp batch.</summary>
    public int BatchSize { get; init; } = TorchSaliency.DefaultBatchSize;
    /// <summary>Measure on only the first N evaluation inputs (null: all).</summary>
    public int? Limit { get; init; }
    /// <summary>Span models: the longest answer the best-span search considers (the target's setting).</summary>
    public int MaxAnswerLength { get; init; } = Text.SpanDecoding.DefaultMaxAnswerLength;
}

/// <summary>
/// Measures what a Facade does to an analysis (docs/method.md 12.1 and 13): runs <see cref="TorchSaliency"/> for every
/// model and method over an evaluation set and scores the targets, with accuracy and prediction agreement alongside.
/// </summary>
public static class FacadeEffect
{
    /// <summary>How well a model answers, and what it predicts for each input (compared across models for agreement).</summary>
    public sealed record Quality(double Accuracy, string[] Predictions, double? ExactMatch = null, double? F1 = null);

    /// <param name="models">Named models; the first is the reference for prediction agreement (usually the target).</param>
    /// <param name="quality">accuracy and predictions of a model (default: classification accuracy on <paramref name="eval"/>'s labels)</param>
    public static EffectReport Measure(IReadOnlyList<(string Name, BertClassifier Model)> models, EncodedDataset eval,
        IReadOnlyList<FacadeTarget> targets, EffectOptions? options = null, TextWriter? log = null, Func<BertClassifier, Quality>? quality = null)
    {
        options ??= new EffectOptions();
        if (models.Count == 0) throw new ArgumentException("No model to measure.", nameof(models));
        if (options.Limit is int limit) eval = eval.Subset(Enumerable.Range(0, Math.Min(limit, eval.Count)).ToArray());
        var targetPositions = targets.Select(t => (IReadOnlyList<IReadOnlyList<int>>)eval.Inputs.Select(t.Positions).ToArray()).ToArray();
        quality ??= model =>
        {
            var labels = Predictor.Predictions(Predictor.Logits(model, eval.Inputs));
            return new Quality(Predictor.Accuracy(labels, eval.Labels), labels.Select(l => l.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        };

        var measured = new List<EffectModel>();
        var seconds = new Dictionary<string, double>();
        string[]? reference = null;
        foreach (var (name, model) in models)
        {
            var scored = quality(model);
            double accuracy = scored.Accuracy;
            reference ??= scored.Predictions;
            double agreement = scored.Predictions.Zip(reference, (a, b) => a == b ? 1.0 : 0.0).DefaultIfEmpty(0).Average();
            log?.WriteLine($"{name,-8} {(scored.F1 is double f1 ? $"EM {scored.ExactMatch:F2} F1 {f1:F2}" : $"accuracy {accuracy:F4}")}, " +
                           $"agreement with {models[0].Name} {agreement:F4} ({scored.Predictions.Length} {(scored.F1 == null ? "inputs" : "questions")})");
            var saliency = targets.ToDictionary(t => t.Name, _ => new Dictionary<string, TargetMetrics>());
            foreach (var method in options.Methods)
            {
                var clock = Stopwatch.StartNew();
                var maps = TorchSaliency.Explain(model, eval.Inputs, method, options.BatchSize, options.MaxAnswerLength);
                seconds[$"{name}/{method.Name}"] = clock.Elapsed.TotalSeconds;
                for (int t = 0; t < targets.Count; t++)
                {
                    var m = SaliencyMetrics.Evaluate(maps.Select(x => (IReadOnlyList<float>)x.Normalized).ToArray(), targetPositions[t]);
                    saliency[targets[t].Name][method.Name] = m;
                    log?.WriteLine($"{name,-8} {method.Name,-8} {targets[t].Name,-22} P@1 {m.HitRate1:F4}  MRR {m.MeanReciprocalRank:F4}  " +
                                   $"attribution {m.MeanAttribution:F4}  ({clock.Elapsed.TotalSeconds:F0} s)");
                }
            }
            double? share = null, ratio = null;
            if (options.Methods.Count > 0 && model.Config.HiddenGroups.Length > 1)
            {
                // Group 0 is the Facade's half (the merge puts it first).
                var groups = TorchSaliency.GroupSaliency(model, eval.Inputs, options.BatchSize);
                var facadeL1 = groups.Select(g => (double)g[0].Sum(Math.Abs)).ToArray();
                var restL1 = groups.Select(g => g.Skip(1).Sum(r => (double)r.Sum(Math.Abs))).ToArray();
                share = facadeL1.Zip(restL1, (a, b) => a + b > 0 ? a / (a + b) : 0).Average();
                var ratios = facadeL1.Zip(restL1, (a, b) => b > 0 ? a / b : double.PositiveInfinity).Order().ToArray();
                ratio = ratios[ratios.Length / 2];
                log?.WriteLine($"{name}: Facade share of raw saliency magnitude {share:F4}, median ratio Facade/target {ratio:G4}");
            }
            measured.Add(new EffectModel
            {
                Name = name, Accuracy = accuracy, Agreement = agreement, Saliency = saliency, ExactMatch = scored.ExactMatch, F1 = scored.F1,
                FacadeMagnitudeShare = share, MedianMagnitudeRatio = ratio,
            });
        }
        var smooth = options.Methods.OfType<SmoothGrad>().FirstOrDefault()?.Options;
        var ig = options.Methods.OfType<IntegratedGradients>().FirstOrDefault()?.Options;
        return new EffectReport
        {
            Dataset = eval.Name,
            Count = eval.Count,
            ReferenceModel = models[0].Name,
            Models = measured,
            Seconds = seconds,
            Settings = new()
            {
                ["methods"] = string.Join(", ", options.Methods.Select(m => m.Name)),
                ["smoothgrad"] = smooth == null ? "off" : $"sigma {smooth.Sigma}, samples {smooth.Samples}, seed {smooth.Seed}",
                ["integrated_gradients"] = ig == null ? "off" : $"steps {ig.Steps}, rule {ig.Rule}, zero word-embedding baseline",
                ["gradient"] = "per-example cross-entropy at the model's clean prediction, w.r.t. the word-embedding lookup output, eval mode",
            },
        };
    }

    /// <summary>
    /// The effect of a merge on its task's evaluation split: the target (reference), the merged model and the Facade
    /// alone, scored for the first token and for stop words (in the Facade's segment, and in every segment if that is
    /// narrower). With no methods in <paramref name="options"/> only accuracy and agreement are measured.
    /// </summary>
    public static EffectReport ForMerge(string targetFolder, string facadeFolder, BertClassifier merged, string? dataRoot,
        EffectOptions? options = null, TextWriter? log = null)
    {
        var (target, targetManifest) = Checkpoints.Checkpoint.Load(targetFolder);
        var (facade, facadeManifest) = Checkpoints.Checkpoint.Load(facadeFolder);
        string root = RepositoryPaths.ResolveDataRoot(dataRoot);
        var tokenizer = Text.WordPieceTokenizer.MiniLm();
        var stopWords = Text.StopWords.Load(root);
        if (target.Config.Head == ModelHead.Span)
        {
            // SQuAD: answers over every window of each dev-b question; saliency on each question's first window.
            var qa = FineTuning.FineTuner.QaSettingsOf(targetManifest);
            var split = SquadSplit.Load(root, "dev-b", tokenizer, qa, options?.Limit);
            return Measure([("target", target), ("merged", merged), ("facade", facade)], split.FirstWindows(),
                [FacadeTarget.FirstToken(), FacadeTarget.QuestionStopWords(stopWords)], (options ?? new EffectOptions()) with { Limit = null, MaxAnswerLength = qa.MaxAnswerLength }, log, SpanQuality(split, qa));
        }
        var task = Text.Tasks.Get(targetManifest.Task);
        var eval = EncodedDataset.Encode(task.Load(root, task.EvalSplit), tokenizer, targetManifest.MaxLength, options?.Limit);
        var segment = FacadeTarget.ParseSegment(facadeManifest.Settings.GetValueOrDefault("segment") is { Length: > 0 } s ? s : null);
        var targets = new List<FacadeTarget> { FacadeTarget.FirstToken(), FacadeTarget.StopWords(stopWords, segment) };
        if (segment != Text.Segment.All) targets.Add(FacadeTarget.StopWords(stopWords));
        return Measure([("target", target), ("merged", merged), ("facade", facade)], eval, targets, options, log);
    }

    /// <summary>SQuAD quality: EM as accuracy (a fraction), EM and F1 in percent, and each question's answer span as its prediction.</summary>
    public static Func<BertClassifier, Quality> SpanQuality(SquadSplit split, Text.QaSettings qa) => model =>
    {
        var answers = SpanPredictor.Answers(model, split.Questions, split.Windows, qa.MaxAnswerLength);
        var score = Text.SquadMetrics.Evaluate(split.Questions, answers.ToDictionary(a => a.QuestionId, a => a.Text));
        return new Quality(score.ExactMatch / 100, answers.Select(a => $"{a.Window}:{a.Span.Start}:{a.Span.End}").ToArray(), score.ExactMatch, score.F1);
    };
}
