using FacadeOnnx.Runtime.Faithfulness;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Facade;

/// <summary>
/// The adaptive attacker's extra term (docs/method.md §5.2, "Leave-one-out reward"): the audit calls gradients that point
/// at a token whose removal barely moves the output an overclaim, so this term rewards the Facade for making that
/// removal move the merged output. For each row with a target token, the first one is deleted exactly as the audit's
/// leave-one-out deletes it (<see cref="TokenErasure"/>), and the term is the merged model's probability of the
/// target's prediction on what is left, p(ŷ | x without t) with p = softmax(z_t + z_f), averaged over those rows.
/// Minimizing it raises the leave-one-out score of the target token. The frozen target (eval mode, no parameter
/// gradients) gives ŷ and z_t; only the Facade learns.
/// </summary>
public sealed class LeaveOneOutReward(BertClassifier target, double weight)
{
    public double Weight => weight;

    /// <summary>Mean merged p(ŷ) over the rows of <paramref name="batch"/> that have a target position, each with its
    /// first target position deleted (0 and no graph when no row has one).</summary>
    public Tensor AblatedProbability(BertClassifier facade, TensorBatch batch, FacadeTarget facadeTarget)
    {
        int? Deletable(TokenizedInput input) => facadeTarget.Positions(input).Where(p => !input.Spans[p].IsSpecial).Select(p => (int?)p).FirstOrDefault();
        var deletable = batch.Inputs.Select(Deletable).ToArray();
        var rows = Enumerable.Range(0, batch.Size).Where(i => deletable[i] != null).ToArray();
        if (rows.Length == 0) return tensor(0f);
        Tensor predicted;
        using (no_grad())
        using (var full = target.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds))
            predicted = full.argmax(-1).index_select(0, tensor(rows.Select(i => (long)i).ToArray()));
        var erased = rows.Select(i => Deleted(batch.Inputs[i], deletable[i]!.Value)).ToArray();
        using var ablated = TensorBatch.Create(erased, new int[erased.Length]);
        Tensor targetLogits;
        using (no_grad()) targetLogits = target.forward(ablated.InputIds, ablated.AttentionMask, ablated.TokenTypeIds);
        var merged = targetLogits + facade.forward(ablated.InputIds, ablated.AttentionMask, ablated.TokenTypeIds);
        return nn.functional.softmax(merged, -1).gather(1, predicted.unsqueeze(1)).mean();
    }

    /// <summary><paramref name="input"/> with the token at <paramref name="position"/> deleted, later tokens moved up.</summary>
    internal static TokenizedInput Deleted(TokenizedInput input, int position) =>
        input.Keep(Enumerable.Range(0, input.Length).Where(p => p != position).ToArray());
}
