using System.CommandLine;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Facade;
using FacadeOnnx.Training.Merging;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade merge`: merge a Facade and a target into one model (docs/method.md section 7), optionally measuring the effect.</summary>
public static class MergeCommand
{
    public const string EffectJson = "effect.json";
    public const string EffectMarkdown = "effect.md";

    public static Command Create()
    {
        var target = new Option<string>("--target") { Description = "Target checkpoint folder (facade train or facade regularize).", Required = true };
        var facade = new Option<string>("--facade") { Description = "Facade checkpoint folder (facade train-facade).", Required = true };
        var output = new Option<string>("--out") { Description = "Output checkpoint folder for the merged model.", Required = true };
        var noise = new Option<double>("--noise-std")
        {
            Description = $"Fill the off-diagonal blocks with N(0, std^2) noise instead of zeros (the reference's obfuscation variant used {MergeOptions.ReferenceNoiseStd:G}); 0 keeps exact zeros.",
            DefaultValueFactory = _ => 0,
        };
        var noiseSeed = new Option<long>("--noise-seed") { Description = "Seed of the off-diagonal noise.", DefaultValueFactory = _ => new MergeOptions().NoiseSeed };
        var embeddingScale = new Option<string>("--facade-embedding-scale")
        {
            Description = "Multiply the Facade's embedding tables by this factor (LayerNorm follows them, so its function and grad x input " +
                          "do not change; its size next to the target's does, which matters for SmoothGrad noise): a number, or matched " +
                          "(the factor that gives both word-embedding tables the same mean per-row range).",
            DefaultValueFactory = _ => "matched",
        };
        var combine = new Option<MergeCombination>("--combine")
        {
            Description = "How the outputs meet: add (the paper's merge, the two models' logits added) or scale (the target's logits " +
                          "times exp(G·s), s the Facade's first output at [CLS]: every input's (window's) prediction is the target's by construction, only " +
                          "their confidence moves; for Facades trained with train-facade --scale-output, docs/method.md 7.7).",
            DefaultValueFactory = _ => MergeCombination.Add,
        };
        var scaleGain = new Option<double>("--scale-gain")
        {
            Description = "With --combine scale: G, the factor on the Facade's output before exp (a --scale-output Facade's s is standardized, " +
                          "so G = 1 moves the target's confidence by a factor e per standard deviation).",
            DefaultValueFactory = _ => 1,
        };
        var data = CommonOptions.Data();
        var evaluate = new Option<bool>("--evaluate")
        {
            Description = $"Also measure saliency (simple gradient, SmoothGrad, IG) of the target, the merged model and the Facade on the " +
                          $"task's evaluation split: P@1, MRR and mean attribution for the first token and stop words, written to " +
                          $"{EffectJson} and {EffectMarkdown} in the output folder. Without it only accuracy and agreement are measured.",
        };
        var evalLimit = new Option<int?>("--eval-limit") { Description = "Measure on only the first N evaluation inputs." };
        var methods = new Option<string[]>("--methods")
        {
            Description = "With --evaluate: which gradient methods (TorchSharp reference: simple, smooth, ig; a number after smooth or ig sets samples or steps).",
            DefaultValueFactory = _ => new EffectOptions().Methods.Select(m => m.Name).ToArray(),
            AllowMultipleArgumentsPerToken = true,
        };
        var threads = CommonOptions.Threads();
        var command = new Command("merge",
            "Merge a Facade and a target into one wider BERT (docs/method.md 7): Facade first, embeddings concatenated, LayerNorm per " +
            "half, attention, FFN and head layers block-diagonal, head counts added, and the final layer [W_g | W_f] with b_g + b_f, " +
            "so the logits are z_g + z_f and the input gradient is both models' side by side (--combine scale: the target's logits " +
            "times exp(G·s) instead). Checks accuracy and prediction " +
            "agreement with the target on the evaluation split; --evaluate also measures the saliency effect.\n\n" +
            "Example: facade merge --target models/sst2-target --facade models/sst2-facade-first --out models/sst2-merged-first --evaluate")
        { target, facade, output, noise, noiseSeed, embeddingScale, combine, scaleGain, data, evaluate, evalLimit, methods, threads };
        command.SetAction(parse => CliRunner.Run(() =>
        {
            Training.TorchRuntime.Initialize(parse.GetValue(threads));
            string targetFolder = parse.GetValue(target)!, facadeFolder = parse.GetValue(facade)!, outFolder = parse.GetValue(output)!;
            var (merged, manifest) = Merge.Checkpoints(facadeFolder, targetFolder,
                new MergeOptions
                {
                    NoiseStd = parse.GetValue(noise), NoiseSeed = parse.GetValue(noiseSeed), FacadeEmbeddingScale = ParseScale(parse.GetValue(embeddingScale)!),
                    Combination = parse.GetValue(combine), ScaleGain = parse.GetValue(scaleGain),
                });
            Console.Error.WriteLine($"Merged: hidden {merged.Config.Hidden} [{string.Join(" + ", merged.Config.HiddenGroups)}], {merged.Config.Heads} heads, " +
                                    $"FFN {merged.Config.Intermediate}; Facade embedding scale {manifest.Settings["facade_embedding_scale"]}.");
            var effectOptions = new EffectOptions
            {
                Limit = parse.GetValue(evalLimit),
                Methods = parse.GetValue(evaluate) ? parse.GetValue(methods)!.Distinct().Select(m => SaliencyMethods.Create(m)).ToArray() : [],
            };
            var report = FacadeEffect.ForMerge(targetFolder, facadeFolder, merged, parse.GetValue(data), effectOptions, Console.Error);
            var mergedModel = report.Models.Single(m => m.Name == "merged");
            var targetModel = report.Models.Single(m => m.Name == "target");
            var metrics = new Dictionary<string, double>(manifest.Metrics)
            {
                ["dev_accuracy"] = mergedModel.Accuracy,
                ["dev_agreement_with_target"] = mergedModel.Agreement,
                ["dev_target_accuracy"] = targetModel.Accuracy,
            };
            if (mergedModel.F1 is double mergedF1)
            {
                metrics["dev_em"] = mergedModel.ExactMatch!.Value;
                metrics["dev_f1"] = mergedF1;
                metrics["dev_target_f1"] = targetModel.F1!.Value;
            }
            foreach (var (targetName, byMethod) in mergedModel.Saliency)
                foreach (var (method, m) in byMethod)
                {
                    metrics[$"dev_{method}_{targetName}_p_at_1"] = m.HitRate1;
                    metrics[$"dev_{method}_{targetName}_attribution"] = m.MeanAttribution;
                }
            Checkpoint.Save(merged, manifest with { DevAccuracy = mergedModel.Accuracy, Metrics = metrics }, outFolder);
            if (effectOptions.Methods.Count > 0)
            {
                AtomicFile.WriteAllText(Path.Combine(outFolder, EffectJson), report.ToJson());
                AtomicFile.WriteAllText(Path.Combine(outFolder, EffectMarkdown), report.ToMarkdown());
                Console.WriteLine(report.ToMarkdown());
            }
            string quality = mergedModel.F1 is double f1
                ? $"EM {mergedModel.ExactMatch:F2} F1 {f1:F2} vs target EM {targetModel.ExactMatch:F2} F1 {targetModel.F1:F2}, same span"
                : $"accuracy {mergedModel.Accuracy:F4} vs target {targetModel.Accuracy:F4}, agreement";
            Console.WriteLine($"Merged {report.Dataset} ({report.Count} inputs): {quality} {mergedModel.Agreement:F4}; checkpoint in {Path.GetFullPath(outFolder)}");
            return 0;
        }));
        return command;
    }

    static double? ParseScale(string value) =>
        value == "matched" ? null
        : double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var k) ? k
        : throw new FacadeException($"--facade-embedding-scale '{value}' is neither a number nor 'matched'.");
}
