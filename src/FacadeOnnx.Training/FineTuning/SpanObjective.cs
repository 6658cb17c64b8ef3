using FacadeOnnx.Text;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Evaluation;
using FacadeOnnx.Training.Loop;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.FineTuning;

/// <summary>
/// The span loss (CE(start) + CE(end)) / 2 at the gold answer, over context positions only; checkpoints are chosen by
/// the official SQuAD F1 of the best span over each evaluation question's windows.
/// </summary>
public sealed class SpanObjective(string label, SquadSplit eval, QaSettings settings, int evalBatchSize) : ITrainingObjective
{
    public string Label => label;

    public Tensor Loss(BertClassifier model, TensorBatch batch, IDictionary<string, double> terms)
    {
        var logits = model.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);
        var (start, end) = SpanHead.Masked(logits, SpanHead.ContextMask(batch));
        return SpanHead.Loss(start, end, batch.Labels, batch.SpanEnds
            ?? throw new InvalidOperationException("A span objective needs span data (answer ends)."));
    }

    public EvaluationResult Evaluate(BertClassifier model)
    {
        var score = Score(model, eval, settings, evalBatchSize);
        return new EvaluationResult(score.F1, true,
            new Dictionary<string, double> { ["dev_em"] = score.ExactMatch, ["dev_f1"] = score.F1 },
            $"{eval.Name} EM {score.ExactMatch:F2} F1 {score.F1:F2} ({score.Questions} questions, {eval.WindowCount} windows)");
    }

    /// <summary>The official EM and F1 (percent) of a model's answers to a split's questions.</summary>
    public static SquadScore Score(BertClassifier model, SquadSplit split, QaSettings settings, int batchSize)
    {
        var answers = SpanPredictor.Answers(model, split.Questions, split.Windows, settings.MaxAnswerLength, batchSize);
        return SquadMetrics.Evaluate(split.Questions, answers.ToDictionary(a => a.QuestionId, a => a.Text));
    }
}
