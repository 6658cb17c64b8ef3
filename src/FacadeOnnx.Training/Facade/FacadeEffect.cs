using FacadeOnnx.Metrics;
using System.Diagnostics;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Evaluation;
using FacadeOnnx.Training.Model;

namespace FacadeOnnx.Training.Facade;

/// <summary>
/// Measures what a Facade does to an analysis (METHOD.md 12.1 and 13): runs <see cref="TorchSaliency"/> for every
/// model and method over an evaluation set and scores the targets, with accuracy and prediction agreement alongside.
/// </summary>
public static class FacadeEffect
{
    /// <param name="models">Named models; the first is the reference for prediction agreement (usually the target).</param>
    public static EffectReport Measure(IReadOnlyList<(string Name, BertClassifier Model)> models, EncodedDataset eval,
        IReadOnlyList<FacadeTarget> targets, EffectOptions? options = null, TextWriter? log = null)
    {
        options ??= new EffectOptions();
        options.Saliency.Validate();
        if (models.Count == 0) throw new ArgumentException("No model to measure.", nameof(models));
        if (options.Limit is int limit) eval = eval.Subset(Enumerable.Range(0, Math.Min(limit, eval.Count)).ToArray());
        var targetPositions = targets.Select(t => (IReadOnlyList<IReadOnlyList<int>>)eval.Inputs.Select(t.Positions).ToArray()).ToArray();

        var accuracy = new Dictionary<string, double>();
        var agreement = new Dictionary<string, double>();
        var rows = new List<EffectRow>();
        var magnitudeShare = new Dictionary<string, double>();
        var medianRatio = new Dictionary<string, double>();
        var seconds = new Dictionary<string, double>();
        int[]? reference = null;
        foreach (var (name, model) in models)
        {
            var predictions = Predictor.Predictions(Predictor.Logits(model, eval.Inputs));
            accuracy[name] = Predictor.Accuracy(predictions, eval.Labels);
            reference ??= predictions;
            agreement[name] = predictions.Zip(reference, (a, b) => a == b ? 1.0 : 0.0).Average();
            log?.WriteLine($"{name,-8} accuracy {accuracy[name]:F4}, agreement with {models[0].Name} {agreement[name]:F4} ({eval.Count} inputs)");
            foreach (var method in options.Methods)
            {
                var clock = Stopwatch.StartNew();
                var result = TorchSaliency.Explain(model, eval.Inputs, method, options.Saliency);
                seconds[$"{name}/{MethodName(method)}"] = clock.Elapsed.TotalSeconds;
                for (int t = 0; t < targets.Count; t++)
                {
                    var m = SaliencyMetrics.Evaluate(result.Normalized, targetPositions[t]);
                    rows.Add(new EffectRow(name, MethodName(method), targets[t].Name, m.HitRate1, m.MeanReciprocalRank, m.MeanAttribution, m.Count, m.WithTarget));
                    log?.WriteLine($"{name,-8} {MethodName(method),-8} {targets[t].Name,-22} P@1 {m.HitRate1:F4}  MRR {m.MeanReciprocalRank:F4}  " +
                                   $"attribution {m.MeanAttribution:F4}  ({clock.Elapsed.TotalSeconds:F0} s)");
                }
                if (method == SaliencyMethod.SimpleGradient && model.Config.HiddenGroups.Length > 1)
                {
                    // Group 0 is the Facade's half (the merge puts it first).
                    var facadeL1 = result.GroupRaw.Select(g => (double)g[0].Sum(Math.Abs)).ToArray();
                    var restL1 = result.GroupRaw.Select(g => g.Skip(1).Sum(r => (double)r.Sum(Math.Abs))).ToArray();
                    magnitudeShare[name] = facadeL1.Zip(restL1, (a, b) => a + b > 0 ? a / (a + b) : 0).Average();
                    var ratios = facadeL1.Zip(restL1, (a, b) => b > 0 ? a / b : double.PositiveInfinity).Order().ToArray();
                    medianRatio[name] = ratios[ratios.Length / 2];
                    log?.WriteLine($"{name}: Facade share of raw saliency magnitude {magnitudeShare[name]:F4}, median ratio Facade/target {medianRatio[name]:G4}");
                }
            }
        }
        return new EffectReport
        {
            Dataset = eval.Name,
            Count = eval.Count,
            ReferenceModel = models[0].Name,
            Accuracy = accuracy,
            Agreement = agreement,
            Rows = rows,
            FacadeMagnitudeShare = magnitudeShare,
            MedianMagnitudeRatio = medianRatio,
            Seconds = seconds,
            Settings = new()
            {
                ["smoothgrad"] = $"sigma {options.Saliency.SmoothGradSigma}, samples {options.Saliency.SmoothGradSamples}, seed {options.Saliency.NoiseSeed}",
                ["integrated_gradients"] = $"steps {options.Saliency.IntegratedGradientsSteps}, left Riemann, zero word-embedding baseline",
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
        var task = Text.Tasks.Get(targetManifest.Task);
        var tokenizer = Text.WordPieceTokenizer.MiniLm();
        var eval = EncodedDataset.Encode(task.Load(root, task.EvalSplit), tokenizer, targetManifest.MaxLength, options?.Limit);
        var stopWords = Text.StopWords.Load(root);
        var segment = FacadeTarget.ParseSegment(facadeManifest.Settings.GetValueOrDefault("segment") is { Length: > 0 } s ? s : null);
        var targets = new List<FacadeTarget> { FacadeTarget.FirstToken(), FacadeTarget.StopWords(stopWords, segment) };
        if (segment != Text.Segment.All) targets.Add(FacadeTarget.StopWords(stopWords));
        return Measure([("target", target), ("merged", merged), ("facade", facade)], eval, targets, options, log);
    }

    public static string MethodName(SaliencyMethod method) => method switch
    {
        SaliencyMethod.SimpleGradient => "simple",
        SaliencyMethod.SmoothGrad => "smooth",
        SaliencyMethod.IntegratedGradients => "ig",
        _ => method.ToString(),
    };
}
