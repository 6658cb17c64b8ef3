using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Loop;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Facade;

/// <summary>
/// Facade training for <see cref="TrainingLoop"/>: the loss is <see cref="FacadeLoss"/>; a checkpoint is scored by the
/// Facade's own dev target share (mean attribution on the target under simple gradient, METHOD.md 12.1) and is
/// eligible only while its output stays near uniform: mean max-probability on dev ≤ <paramref name="maxMeanMaxProbability"/>.
/// </summary>
public sealed class FacadeObjective(string label, FacadeLoss loss, EncodedDataset eval, double maxMeanMaxProbability, SaliencyOptions saliency)
    : ITrainingObjective
{
    readonly IReadOnlyList<IReadOnlyList<int>> _evalTargets = eval.Inputs.Select(loss.Target.Positions).ToArray();

    public string Label => label;

    public Tensor Loss(BertClassifier model, TensorBatch batch, IDictionary<string, double> terms)
    {
        var parts = loss.Compute(model, batch);
        terms["loss"] = parts.Total.item<float>();
        terms["share"] = parts.MeanShare.item<float>();
        terms["negent"] = parts.OutputLoss.item<float>();
        terms["maxp"] = parts.MeanMaxProbability.item<float>();
        return parts.Total;
    }

    public EvaluationResult Evaluate(BertClassifier model)
    {
        var result = TorchSaliency.Explain(model, eval.Inputs, SaliencyMethod.SimpleGradient, saliency);
        var metrics = SaliencyMetrics.Evaluate(result.Normalized, _evalTargets);
        double maxProbability = result.Logits.Select(MaxProbability).Average();
        double minNorm = result.Raw.Select(r => r.Sum(Math.Abs)).Min();
        bool eligible = maxProbability <= maxMeanMaxProbability;
        var values = new Dictionary<string, double>
        {
            ["dev_share"] = metrics.MeanAttribution,
            ["dev_p_at_1"] = metrics.HitRate1,
            ["dev_mrr"] = metrics.MeanReciprocalRank,
            ["dev_mean_max_probability"] = maxProbability,
            ["dev_min_saliency_l1"] = minNorm,
            ["dev_mean_saliency_l1"] = result.Raw.Select(r => r.Sum(Math.Abs)).Average(),
        };
        string guard = eligible ? "" : $" > guard {maxMeanMaxProbability:F3}: not eligible";
        return new EvaluationResult(metrics.MeanAttribution, eligible, values,
            $"{eval.Name} {loss.Target.Name} share {metrics.MeanAttribution:F4}, P@1 {metrics.HitRate1:F4}, " +
            $"mean max-probability {maxProbability:F4}{guard} ({eval.Count} examples)");
    }

    /// <summary>max_c softmax(z)_c.</summary>
    public static double MaxProbability(float[] logits)
    {
        double max = logits.Max();
        return 1.0 / logits.Sum(z => Math.Exp(z - max));
    }
}
