using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Loop;

/// <summary>One evaluation: the score checkpoints are chosen by (higher is better), whether the checkpoint is eligible
/// at all (a guard such as "outputs stay uniform"), the numbers to log, and a one-line summary.</summary>
public sealed record EvaluationResult(double Score, bool Eligible, IReadOnlyDictionary<string, double> Metrics, string Summary);

/// <summary>What a <see cref="TrainingLoop"/> optimizes and how it judges a checkpoint.</summary>
public interface ITrainingObjective
{
    /// <summary>Shown on the progress bar, e.g. "fine-tune sst2".</summary>
    string Label { get; }

    /// <summary>The scalar loss of a training batch (model in train mode); <paramref name="terms"/> receives named parts to display.</summary>
    Tensor Loss(BertClassifier model, TensorBatch batch, IDictionary<string, double> terms);

    /// <summary>Evaluates the model on held-out data (the loop switches it to eval mode and back).</summary>
    EvaluationResult Evaluate(BertClassifier model);
}
