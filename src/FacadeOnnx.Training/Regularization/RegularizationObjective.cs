using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Evaluation;
using FacadeOnnx.Training.Facade;
using FacadeOnnx.Training.Loop;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Regularization;

/// <summary>
/// The regularized predictive model of docs/method.md section 6: fine-tune the target to shrink its own grad x input while
/// keeping accuracy,
/// <code>
/// e = word-embedding lookup output,  z = f(e),  ŷ = argmax z,  G = ∂ Σ_i CE(z_i, ŷ_i) / ∂e  (create_graph)
/// s = Σ_d G·e,  L_RP = λ · (1/B) Σ_i Σ_t |s_it|  +  (1/B) Σ_i CE(z_i, y_i gold)
/// </code>
/// One forward pass serves both terms (the reference runs two, with different dropout masks; the difference is noise).
/// With the per-example loss of section 17, s is B times the reference's batch-mean s, so λ here equals the reference's
/// λ / B. A checkpoint is scored by how small its mean dev saliency L1 (Σ_t |s_t|, simple gradient) is, and is
/// eligible only while its dev accuracy stays within <paramref name="accuracyTolerance"/> of <paramref name="baselineAccuracy"/>.
/// </summary>
public sealed class RegularizationObjective(string label, double lambda, EncodedDataset eval, double baselineAccuracy, double accuracyTolerance, int saliencyBatchSize)
    : ITrainingObjective
{
    public string Label => label;

    public Tensor Loss(BertClassifier model, TensorBatch batch, IDictionary<string, double> terms)
    {
        var embeddings = model.embeddings.Lookup(batch.InputIds);
        var logits = model.LogitsFromEmbeddings(embeddings, batch.AttentionMask, batch.TokenTypeIds);
        var predicted = logits.argmax(-1).detach();
        var ownLoss = nn.functional.cross_entropy(logits, predicted, reduction: nn.Reduction.Sum);
        var gradient = autograd.grad([ownLoss], [embeddings], retain_graph: true, create_graph: true)[0];
        var magnitude = AttributionShare.TokenSaliency(gradient, embeddings).abs().sum(-1).mean();
        var classification = nn.functional.cross_entropy(logits, batch.Labels);
        var total = magnitude.Times(lambda) + classification;
        terms["loss"] = total.item<float>();
        terms["ce"] = classification.item<float>();
        terms["l1"] = magnitude.item<float>();
        return total;
    }

    public EvaluationResult Evaluate(BertClassifier model)
    {
        var maps = TorchSaliency.Explain(model, eval.Inputs, new SimpleGradient(), saliencyBatchSize);
        double accuracy = Predictor.Accuracy(maps.Select(m => m.Label).ToArray(), eval.Labels);
        double magnitude = maps.Average(m => m.Raw.Sum(Math.Abs));
        bool eligible = accuracy >= baselineAccuracy - accuracyTolerance;
        var metrics = new Dictionary<string, double> { ["dev_accuracy"] = accuracy, ["dev_mean_saliency_l1"] = magnitude };
        return new EvaluationResult(-magnitude, eligible, metrics,
            $"{eval.Name} accuracy {accuracy:F4}{(eligible ? "" : $" (below {baselineAccuracy - accuracyTolerance:F4}: not eligible)")}, " +
            $"mean saliency L1 {magnitude:G4} ({eval.Count} examples)");
    }
}
