using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Evaluation;
using FacadeOnnx.Training.Loop;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.FineTuning;

/// <summary>Cross-entropy against the gold labels (batch mean); checkpoints are chosen by accuracy on the evaluation split.</summary>
public sealed class ClassificationObjective(string label, EncodedDataset eval, int evalBatchSize) : ITrainingObjective
{
    public string Label => label;

    public Tensor Loss(BertClassifier model, TensorBatch batch, IDictionary<string, double> terms)
    {
        var logits = model.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);
        return nn.functional.cross_entropy(logits, batch.Labels);
    }

    public EvaluationResult Evaluate(BertClassifier model)
    {
        var predictions = Predictor.Predictions(Predictor.Logits(model, eval.Inputs, evalBatchSize));
        double accuracy = Predictor.Accuracy(predictions, eval.Labels);
        return new EvaluationResult(accuracy, true, new Dictionary<string, double> { ["dev_accuracy"] = accuracy },
            $"{eval.Name} accuracy {accuracy:F4} ({eval.Count} examples)");
    }
}
