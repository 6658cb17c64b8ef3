using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Facade;

/// <summary>The parts of one Facade loss evaluation; <see cref="Total"/> carries the graph, the rest are detached.</summary>
/// <param name="AblatedProbability">with a <see cref="LeaveOneOutReward"/>: its term, the merged p(ŷ) once the target token is deleted</param>
public sealed record FacadeLossTerms(Tensor Total, Tensor GradLoss, Tensor OutputLoss, Tensor MagnitudeLoss, Tensor MeanShare, Tensor MeanTargetSaliency, Tensor MeanMaxProbability,
    Tensor? AblatedProbability = null);

/// <summary>
/// The Facade objective of docs/method.md 5.2, with the per-example adaptation of section 17:
/// <code>
/// pass 1:  z = g(x),  ŷ = argmax z,  L_out = (1/B) Σ_i Σ_c p_ic log p_ic,  p_i = softmax(z_i)   (negative entropy)
/// pass 2:  e = word-embedding lookup output (fresh dropout mask),  G = ∂ Σ_i CE(g(e)_i, ŷ_i) / ∂e   (create_graph)
///          s = Σ_d G·e,  ŝ = s / Σ_t |s|,  L_grad = −(1/B) Σ_i Σ_{t∈T_i} |ŝ_it|
/// loss = L_grad + λ · L_out  [+ μ · L_mag,  L_mag = −(1/B') Σ_{i: T_i≠∅} log Σ_{t∈T_i} |s_it|]
/// </code>
/// The gradient is of the per-example loss summed over the batch, so each row's G is its own example's gradient (the
/// paper's batch mean only scales every row by 1/B, which the normalization cancels). Rows whose target set is empty
/// contribute 0 to L_grad but still count in B, as in the paper.
/// <para>
/// L_mag (weight μ, 0 gives the reference loss exactly) is this project's addition. L_grad is blind to the raw size
/// of s and L_out shrinks the output, and with it the gradient, so on its own the Facade's raw saliency decays during
/// training (measured: mean Σ_t|s| 0.13 → 0.02 over 2,000 steps on SST-2), and in a merge the target's saliency then
/// outweighs it. The log makes the reward scale-free: doubling the target saliency of any example is worth the same,
/// which favours Facades whose gradient is large where their output is flat.
/// </para>
/// </summary>
/// <param name="maxAnswerLength">span heads: the longest answer the Facade's own best span may have</param>
/// <param name="gradientSpans">span heads: the spans whose loss the gradient is of, per input (null: see
/// <paramref name="randomSpans"/>). In a merge every gradient is taken at the merged model's span, which is the
/// target's, not the Facade's; given the target's spans, the Facade is trained for the gradients it will meet.</param>
/// <param name="randomSpans">span heads without <paramref name="gradientSpans"/>: a fresh random context span per row
/// and step (seeded) instead of the Facade's own best span (the reference's choice). The idea: with many spans per
/// input, keeping the gradient on the target asks every position's logit to depend on the target token alone, which
/// would hold for whatever span a merged model predicts. Measured on SQuAD it did not help: the Facade kept its share by
/// shrinking the gradient elsewhere, and the merged P@1 fell to 0.03 (README, SQuAD).</param>
/// <param name="mergedWith">a frozen target (eval mode): the share and magnitude terms then see the merged model's
/// saliency, target + Facade, and the output term is the change of the target's prediction (docs/method.md §5.2,
/// merged gradient). See <see cref="Merged"/>.</param>
/// <param name="leaveOneOut">the adaptive attacker's term (classifiers): its weight times the merged probability of the
/// target's prediction once the target token is deleted, added to the loss</param>
/// <param name="imitated">a frozen target (eval mode) whose predictions the Facade copies: the output term becomes
/// KL(softmax(target) ‖ softmax(Facade)) (span heads: start and end over the context, averaged) instead of the negative
/// entropy (docs/method.md §5.2, imitating Facade). A Facade that predicts what the target predicts can be scaled up in
/// the merge without changing its predictions, where a flat one cannot.</param>
/// <param name="imitation">with <paramref name="imitated"/>, the output term: the KL (the default), the cross-entropy
/// at the imitated model's own prediction (span heads: its best span, (CE(start) + CE(end)) / 2), which keeps the
/// predictions by widening their margins rather than keeping the whole distributions, or for span heads the hinge on
/// the margin by which its best span wins (<see cref="HeadTarget.MarginLoss"/>, <paramref name="spanMargin"/> logits),
/// which trains only the rows about to change (what tuning a span model needs, <see cref="Merging.MergeTuning"/>)</param>
/// <param name="spread">the output term is the batch mean of log σ, σ the standard deviation of the Facade's logits
/// (span heads: over the context, of start and of end, averaged) instead of the negative entropy. With λ = μ the loss
/// is then blind to the Facade's output scale, as the merge's output calibration is: λ·log σ − μ·log Σ_T|s| is μ times
/// the log of the output spread paid per unit of target saliency, the quantity that decides how far the calibration can
/// scale the Facade up (docs/method.md §5.2, spread term).</param>
/// <param name="sharePower">p in the share term's Σ_T |s|^p / Σ |s|^p (1: the reference's share). A target of several
/// tokens (stop words) can hold most of the attribution while a single other token still outranks each of them; p &gt; 1
/// weighs the largest saliencies more, so the term moves toward P@1, one target token above every other token
/// (docs/method.md §5.2, share power). The reported share stays the p = 1 one.</param>
/// <param name="residualOf">a frozen target (eval mode): the Facade's gradient is taken of φ = Σ δ·z_f, δ the target's
/// output residual at its own prediction (<see cref="HeadTarget.Residual"/>), which is the Facade's part of a merged
/// model's gradient while the Facade is small; the output term is ½ (log |φ| + log σ), |φ| what moves the merged
/// prediction to first order and σ as in <paramref name="spread"/> (docs/method.md §5.2, target residual).</param>
public sealed class FacadeLoss(FacadeTarget target, double lambda, double magnitude = 0, int maxAnswerLength = Text.SpanDecoding.DefaultMaxAnswerLength,
    IReadOnlyDictionary<Text.TokenizedInput, Text.SpanPrediction>? gradientSpans = null, Random? randomSpans = null,
    BertClassifier? mergedWith = null, LeaveOneOutReward? leaveOneOut = null, BertClassifier? imitated = null, bool spread = false,
    BertClassifier? residualOf = null, ImitationTerm imitation = ImitationTerm.Distribution, double spanMargin = 1, double sharePower = 1,
    bool scaleOutput = false)
{
    /// <summary>Keeps log σ finite for a perfectly flat row.</summary>
    public const double SpreadEpsilon = 1e-12;

    /// <summary>Keeps log() finite for a row whose target saliency is exactly zero.</summary>
    public const double MagnitudeEpsilon = 1e-12;

    public FacadeTarget Target => target;
    public double Lambda => lambda;
    public double Magnitude => magnitude;
    /// <summary>Whether the output term is a KL divergence from a frozen target's predictions, not an entropy.</summary>
    public bool OutputIsDivergence => mergedWith != null || imitated != null;
    /// <summary>Whether the output term is log σ of the logits (the spread term).</summary>
    public bool OutputIsSpread => (spread || residualOf != null || scaleOutput) && !OutputIsDivergence;

    /// <summary>
    /// The output s of a Facade for the scaling merge, [batch]: its first logit at [CLS] (a span model's start logit at
    /// position 0, a classifier's first class logit), the number the merge multiplies the target's logits by exp() of.
    /// </summary>
    public static Tensor ScaleOutputOf(BertClassifier model, Tensor logits) =>
        model.Config.Head == ModelHead.Span ? logits.select(1, 0).select(1, 0) : logits.select(1, 0);

    public FacadeLossTerms Compute(BertClassifier model, TensorBatch batch)
    {
        var terms = SaliencyTerms(model, batch);
        if (leaveOneOut == null) return terms;
        var ablated = leaveOneOut.AblatedProbability(model, batch, target);
        return terms with { Total = terms.Total + ablated.Times(leaveOneOut.Weight), AblatedProbability = ablated.detach() };
    }

    FacadeLossTerms SaliencyTerms(BertClassifier model, TensorBatch batch)
    {
        var targetMask = batch.PositionMask(target.Positions).to_type(model.embeddings.word.weight!.dtype);

        if (mergedWith != null) return Merged(model, batch, targetMask);
        if (scaleOutput) return ScaleOutput(model, batch, targetMask);
        if (residualOf != null) return AtTargetResidual(model, batch, targetMask);
        var logits = model.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);
        var (outputLoss, meanMaxProbability) = OutputTerms(model, batch, logits);
        if (imitated != null)
        {
            Tensor targetLogits;
            using (no_grad()) targetLogits = imitated.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);
            outputLoss = imitation switch
            {
                ImitationTerm.Prediction => HeadTarget.Predicted(imitated, batch, targetLogits, maxAnswerLength).Loss(logits, nn.Reduction.Mean),
                ImitationTerm.SpanMargin => HeadTarget.Predicted(imitated, batch, targetLogits, maxAnswerLength).MarginLoss(logits, spanMargin, maxAnswerLength),
                _ => PredictionChange(model, batch, targetLogits, logits),
            };
        }
        else if (spread) outputLoss = LogSpread(model, batch, logits);
        var predicted = model.Config.Head != ModelHead.Span || (gradientSpans == null && randomSpans == null)
            ? HeadTarget.Predicted(model, batch, logits, maxAnswerLength)
            : Given(batch, gradientSpans != null ? batch.Inputs.Select(x => gradientSpans[x]).ToArray() : batch.Inputs.Select(RandomSpan).ToArray());

        var embeddings = model.embeddings.Lookup(batch.InputIds);
        var secondLogits = model.LogitsFromEmbeddings(embeddings, batch.AttentionMask, batch.TokenTypeIds);
        var crossEntropy = predicted.Loss(secondLogits, nn.Reduction.Sum);
        var gradient = autograd.grad([crossEntropy], [embeddings], retain_graph: true, create_graph: true)[0];
        return Terms(AttributionShare.TokenSaliency(gradient, embeddings), targetMask, outputLoss, meanMaxProbability);
    }

    /// <summary>
    /// The Facade loss against a frozen target (docs/method.md §5.2, merged gradient). The merge computes z = z_t + z_f
    /// on concatenated word embeddings [e_t | e_f], so a token's merged saliency is s_t + s_f, both taken at the merged
    /// loss CE(z_t + z_f, ŷ) at the target's prediction ŷ (what the merge predicts while it agrees with the target).
    /// s_t comes from one plain backward through the target with z_f held fixed (a constant of the loss); s_f through
    /// double backpropagation, so the Facade learns where and how large its gradient must be to outweigh the target's
    /// on the inputs it will meet. The output term is what the merge must keep, the target's prediction, instead of the
    /// entropy that stands in for it: KL(softmax(z_t) ‖ softmax(z_t + z_f)) (span heads: of start and end over the
    /// context, averaged). One Facade pass serves both terms.
    /// </summary>
    FacadeLossTerms Merged(BertClassifier model, TensorBatch batch, Tensor targetMask)
    {
        var frozen = mergedWith!;
        var targetEmbeddings = frozen.embeddings.Lookup(batch.InputIds).detach().requires_grad_(true);
        var targetLogits = frozen.LogitsFromEmbeddings(targetEmbeddings, batch.AttentionMask, batch.TokenTypeIds);
        var predicted = HeadTarget.Predicted(frozen, batch, targetLogits, maxAnswerLength);

        var embeddings = model.embeddings.Lookup(batch.InputIds);
        var facadeLogits = model.LogitsFromEmbeddings(embeddings, batch.AttentionMask, batch.TokenTypeIds);
        var targetLoss = predicted.Loss(targetLogits + facadeLogits.detach(), nn.Reduction.Sum);
        var frozenGradient = autograd.grad([targetLoss], [targetEmbeddings])[0];
        var frozenSaliency = AttributionShare.TokenSaliency(frozenGradient, targetEmbeddings).detach();

        var fixedTarget = targetLogits.detach();
        var crossEntropy = predicted.Loss(fixedTarget + facadeLogits, nn.Reduction.Sum);
        var gradient = autograd.grad([crossEntropy], [embeddings], retain_graph: true, create_graph: true)[0];
        var (_, meanMaxProbability) = OutputTerms(model, batch, facadeLogits);
        return Terms(AttributionShare.TokenSaliency(gradient, embeddings) + frozenSaliency, targetMask,
            PredictionChange(model, batch, fixedTarget, fixedTarget + facadeLogits), meanMaxProbability);
    }

    /// <summary>
    /// The Facade of a scaling merge (docs/method.md §7.7; <paramref name="scaleOutput"/>). In the merged model
    /// z = z_t · exp(s), the span or class loss at the target's prediction has the gradient
    /// exp(s)·(Σ p·z_t − z_t[ŷ])·∂s/∂e plus the target's own part, so the Facade's part of every token's saliency is one
    /// number per input times ∂s/∂e: the gradient trained is that of s itself (double backpropagation), and the output
    /// term is log σ of s over the batch. With λ = μ the loss is then blind to the scale of s, which the end of training
    /// standardizes away; what it rewards is target saliency per unit of spread of s.
    /// </summary>
    FacadeLossTerms ScaleOutput(BertClassifier model, TensorBatch batch, Tensor targetMask)
    {
        var embeddings = model.embeddings.Lookup(batch.InputIds);
        var output = ScaleOutputOf(model, model.LogitsFromEmbeddings(embeddings, batch.AttentionMask, batch.TokenTypeIds));
        var gradient = autograd.grad([output.sum()], [embeddings], retain_graph: true, create_graph: true)[0];
        // Population variance, so a batch of one (an epoch's last) gives σ = 0 and no gradient instead of NaN.
        var logSpread = output.Plus(output.mean().neg()).square().mean().Plus(SpreadEpsilon).log().Times(0.5);
        return Terms(AttributionShare.TokenSaliency(gradient, embeddings), targetMask, logSpread, zeros(1, dtype: output.dtype));
    }

    /// <summary>
    /// The Facade loss at a frozen target's output residual δ (<paramref name="residualOf"/>): a merge's gradient is
    /// Σ δ_m · ∂(z_t + z_f)/∂e with δ_m the merged residual, which is the target's while the Facade is small, so the
    /// Facade's part is the gradient of φ = Σ δ·z_f. One Facade pass gives φ, its gradient (double backpropagation) and σ.
    /// </summary>
    FacadeLossTerms AtTargetResidual(BertClassifier model, TensorBatch batch, Tensor targetMask)
    {
        var frozen = residualOf!;
        Tensor targetLogits;
        using (no_grad()) targetLogits = frozen.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);
        var residual = HeadTarget.Predicted(frozen, batch, targetLogits, maxAnswerLength).Residual(targetLogits);

        var embeddings = model.embeddings.Lookup(batch.InputIds);
        var logits = model.LogitsFromEmbeddings(embeddings, batch.AttentionMask, batch.TokenTypeIds);
        var contracted = (residual * logits).flatten(1).sum(-1);
        var gradient = autograd.grad([contracted.sum()], [embeddings], retain_graph: true, create_graph: true)[0];
        var logContracted = contracted.square().Plus(SpreadEpsilon).log().Times(0.5).mean();
        var (_, meanMaxProbability) = OutputTerms(model, batch, logits);
        return Terms(AttributionShare.TokenSaliency(gradient, embeddings), targetMask,
            (logContracted + LogSpread(model, batch, logits)).Over(2), meanMaxProbability);
    }

    /// <summary>Batch mean of KL(softmax(<paramref name="before"/>) ‖ softmax(<paramref name="after"/>)); span heads: of
    /// the start and the end distribution over the context, averaged.</summary>
    static Tensor PredictionChange(BertClassifier model, TensorBatch batch, Tensor before, Tensor after)
    {
        static Tensor Kl(Tensor p, Tensor q)
        {
            var logP = nn.functional.log_softmax(p, -1);
            return (logP.exp() * (logP - nn.functional.log_softmax(q, -1))).sum(-1).mean();
        }
        if (model.Config.Head != ModelHead.Span) return Kl(before, after);
        var context = SpanHead.ContextMask(batch);
        var (beforeStart, beforeEnd) = SpanHead.Masked(before, context);
        var (afterStart, afterEnd) = SpanHead.Masked(after, context);
        return (Kl(beforeStart, afterStart) + Kl(beforeEnd, afterEnd)).Over(2);
    }

    /// <summary>The share and magnitude terms of <paramref name="saliency"/> [batch, sequence] added to the output term.</summary>
    FacadeLossTerms Terms(Tensor saliency, Tensor targetMask, Tensor outputLoss, Tensor meanMaxProbability)
    {
        var share = AttributionShare.Share(AttributionShare.Normalize(saliency), targetMask);
        var trained = sharePower == 1 ? share : AttributionShare.Share(AttributionShare.Normalize(saliency.abs().Plus(AttributionShare.Epsilon).Power(sharePower)), targetMask);
        var gradLoss = -trained.mean();
        var total = gradLoss + outputLoss.Times(lambda);

        // The optional magnitude term: −(1/B') Σ_{i: T_i ≠ ∅} log Σ_{t∈T_i} |s_it|, over rows that have a target.
        var targetSaliency = (saliency.abs() * targetMask).sum(-1);
        var hasTarget = targetMask.sum(-1).GreaterThan(0).to_type(targetSaliency.dtype);
        var magnitudeLoss = -(targetSaliency.Plus(MagnitudeEpsilon).log() * hasTarget).sum() / hasTarget.sum().AtLeast(1);
        if (magnitude != 0) total = total + magnitudeLoss.Times(magnitude);

        return new FacadeLossTerms(
            total, gradLoss.detach(), outputLoss.detach(), magnitudeLoss.detach(), share.mean().detach(),
            ((targetSaliency * hasTarget).sum() / hasTarget.sum().AtLeast(1)).detach(),
            meanMaxProbability.detach());
    }

    static HeadTarget Given(TensorBatch batch, IReadOnlyList<Text.SpanPrediction> spans) =>
        new(tensor(spans.Select(s => (long)s.Start).ToArray()), tensor(spans.Select(s => (long)s.End).ToArray()), SpanHead.ContextMask(batch)) { Spans = spans.ToArray() };

    /// <summary>A uniformly random start in the input's context and a random length up to the longest answer.</summary>
    Text.SpanPrediction RandomSpan(Text.TokenizedInput input)
    {
        var (first, last) = Text.SpanDecoding.ContextRange(input);
        int start = randomSpans!.Next(first, last + 1);
        int end = start + randomSpans.Next(Math.Min(maxAnswerLength, last - start + 1));
        return new Text.SpanPrediction(start, end, 0);
    }

    /// <summary>
    /// The output term L_out, the batch mean of Σ p log p (negative entropy), and the mean max-probability. For a span
    /// head (docs/method.md §15) both are over the context positions of the start and of the end distribution,
    /// averaged: flat start and end logits over the context leave the merged model's spans to the target.
    /// </summary>
    static (Tensor NegativeEntropy, Tensor MeanMaxProbability) OutputTerms(BertClassifier model, TensorBatch batch, Tensor logits)
    {
        if (model.Config.Head != ModelHead.Span) return DistributionTerms(logits);
        var (start, end) = SpanHead.Masked(logits, SpanHead.ContextMask(batch));
        var (startEntropy, startMax) = DistributionTerms(start);
        var (endEntropy, endMax) = DistributionTerms(end);
        return ((startEntropy + endEntropy).Over(2), (startMax + endMax).Over(2));
    }

    /// <summary>Batch mean of log σ of the logits; span heads: σ over the context positions, of start and of end, averaged.</summary>
    static Tensor LogSpread(BertClassifier model, TensorBatch batch, Tensor logits)
    {
        static Tensor LogSigma(Tensor values, Tensor mask)
        {
            var count = mask.sum(-1, keepdim: true).AtLeast(1);
            var mean = (values * mask).sum(-1, keepdim: true) / count;
            var variance = ((values - mean).square() * mask).sum(-1, keepdim: true) / count;
            return variance.Plus(SpreadEpsilon).log().Times(0.5).mean();
        }
        if (model.Config.Head != ModelHead.Span) return LogSigma(logits, ones_like(logits));
        var context = SpanHead.ContextMask(batch).to_type(logits.dtype);
        return (LogSigma(logits.select(2, 0), context) + LogSigma(logits.select(2, 1), context)).Over(2);
    }

    /// <summary>Batch means of Σ p log p and of max p, for softmax over the last dimension.</summary>
    static (Tensor NegativeEntropy, Tensor MeanMaxProbability) DistributionTerms(Tensor logits)
    {
        var logProbabilities = nn.functional.log_softmax(logits, -1);
        var probabilities = logProbabilities.exp();
        return ((probabilities * logProbabilities).sum(-1).mean(), probabilities.max(-1).values.mean());
    }
}
