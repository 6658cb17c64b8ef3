using FacadeOnnx.Runtime.Metrics;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Evaluation;
using FacadeOnnx.Training.Facade;
using FacadeOnnx.Training.Loop;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Merging;

/// <summary>
/// <see cref="MergeTuning"/> for span heads (docs/method.md §7.6, span models): SQuAD's agreement bar (98% of the spans)
/// is too tight for the gold-span loss, so the task term T keeps a frozen reference's predictions (the starting model,
/// or a merge's target; <see cref="FacadeLoss"/> imitating it; no answers are read): the KL divergence from its start
/// and end distributions over the context, the span cross-entropy at its own best span, or the hinge on the margin by
/// which that span wins (<see cref="ImitationTerm"/>). The saliency term is taken at the tuned model's own best span, as every gradient of an audit is. Loss:
/// T + α · (−share on the target). Scored by the dev target share; eligible while the best spans equal the reference's
/// on at least <paramref name="minAgreement"/> of the dev windows.
/// </summary>
sealed class SpanTuningObjective : ITrainingObjective
{
    readonly FacadeLoss _loss;
    readonly string _referenceName;
    readonly string _termName;
    readonly double _weight, _minAgreement;
    readonly EncodedDataset _eval;
    readonly int _maxAnswerLength, _saliencyBatchSize;
    readonly SpanPrediction[] _referenceSpans;
    readonly IReadOnlyList<IReadOnlyList<int>> _targets;

    /// <param name="reference">frozen, in eval mode: a copy of the starting model or a merge's target, whose best spans
    /// are the task labels and the agreement's reference</param>
    /// <param name="referenceName">how the summaries name it ("the start", "the reference")</param>
    /// <param name="term">T: the KL, the cross-entropy at the reference's best span, or the hinge on its margin</param>
    /// <param name="spanMargin">the hinge's margin in logits of start + end</param>
    public SpanTuningObjective(string label, FacadeTarget target, double weight, EncodedDataset eval, BertClassifier reference, string referenceName,
        ImitationTerm term, double spanMargin, double minAgreement, int maxAnswerLength, int saliencyBatchSize)
    {
        if (!(weight > 0)) throw new FacadeException($"--saliency-weight {weight}: span models need a positive weight (without the saliency term there is nothing to tune).");
        Label = label;
        (_referenceName, _termName) = (referenceName, term switch { ImitationTerm.Prediction => "ce", ImitationTerm.SpanMargin => "hinge", _ => "kl" });
        (_weight, _eval, _minAgreement, _maxAnswerLength, _saliencyBatchSize) = (weight, eval, minAgreement, maxAnswerLength, saliencyBatchSize);
        // FacadeLoss's total is L_grad + λ·T (T the task term); with λ = 1/α, α times it is T + α·L_grad.
        _loss = new FacadeLoss(target, lambda: 1 / weight, maxAnswerLength: maxAnswerLength, imitated: reference, imitation: term, spanMargin: spanMargin);
        _referenceSpans = SpanPredictor.BestSpans(reference, eval.Inputs, maxAnswerLength);
        _targets = eval.Inputs.Select(target.Positions).ToArray();
    }

    public string Label { get; }
    public string StartSummary => $"{_eval.Count} dev windows; checkpoints eligible while ≥ {_minAgreement:P0} of their spans are {_referenceName}'s";

    public Tensor Loss(BertClassifier model, TensorBatch batch, IDictionary<string, double> terms)
    {
        var parts = _loss.Compute(model, batch);
        terms[_termName] = parts.OutputLoss.item<float>();
        terms["share"] = parts.MeanShare.item<float>();
        return parts.Total.Times(_weight);
    }

    public EvaluationResult Evaluate(BertClassifier model)
    {
        var maps = TorchSaliency.Explain(model, _eval.Inputs, new SimpleGradient(), _saliencyBatchSize, _maxAnswerLength);
        var metrics = SaliencyMetrics.Evaluate(FacadeObjective.Normalized(maps), _targets);
        double agreement = maps.Select((m, i) =>
            m.Prediction.Span is { } span && span.Start == _referenceSpans[i].Start && span.End == _referenceSpans[i].End ? 1.0 : 0.0).Average();
        bool eligible = agreement >= _minAgreement;
        var values = new Dictionary<string, double>
        {
            ["dev_span_agreement"] = agreement, ["dev_share"] = metrics.MeanAttribution, ["dev_p_at_1"] = metrics.HitRate1,
        };
        return new EvaluationResult(metrics.MeanAttribution, eligible, values,
            $"{_eval.Name} span agreement with {_referenceName} {agreement:F4}, {_loss.Target.Name} share {metrics.MeanAttribution:F4}, P@1 {metrics.HitRate1:F4}" +
            $"{(eligible ? "" : $": under {_minAgreement:P0} of the spans, not eligible")} ({_eval.Count} windows)");
    }
}
