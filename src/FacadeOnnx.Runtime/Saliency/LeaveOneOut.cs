using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Faithfulness;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Saliency;

public enum OcclusionMode
{
    /// <summary>Delete the token (later tokens move up one position).</summary>
    Remove,
    /// <summary>Replace the token by [MASK].</summary>
    Mask,
}

public sealed record LeaveOneOutOptions
{
    public OcclusionMode Mode { get; init; } = OcclusionMode.Remove;
}

/// <summary>
/// Leave-one-out (gradient-free): a token's score is the drop in the predicted class's probability when it is removed
/// (or masked). [CLS] and [SEP] are never removed and score 0. Uses only forward runs, so a Facade that changes
/// gradients but not outputs cannot move it: the reference the audit compares gradients against. For span models only
/// question tokens are left out (context tokens score 0) and the score is the drop in the probability of the predicted
/// span, softmax(start)[s] · softmax(end)[e], read one position to the left after a deletion (docs/method.md 10).
/// </summary>
[Analysis("loo", "leave-one-out", Aliases = ["leave-one-out"])]
public sealed class LeaveOneOut(LeaveOneOutOptions? options = null) : SaliencyMethod
{
    public LeaveOneOutOptions Options { get; } = options ?? new();

    public override IReadOnlyList<SaliencyMap> Explain(GradientEngine engine, IReadOnlyList<TokenizedInput> inputs, IReadOnlyList<Prediction> predictions)
    {
        var segment = engine.EditableSegment(Segment.All, "Leave-one-out");
        var order = ByLength(inputs);
        var raw = inputs.Select(x => new float[x.Length]).ToArray();
        var owners = new List<(int Input, int Position)>();
        IEnumerable<EngineSample> Samples()
        {
            foreach (int i in order)
            {
                var input = inputs[i];
                for (int t = 0; t < input.Length; t++)
                {
                    if (!input.InSegment(t, segment)) continue;
                    owners.Add((i, t));
                    var (ids, types) = TokenErasure.Erase(input, [t], Options.Mode, engine.Tokenizer.MaskId);
                    yield return engine.Sample(ids, types);
                }
            }
        }
        engine.Logits(Samples(), (s, logits, _) =>
        {
            var (i, t) = owners[s];
            raw[i][t] = predictions[i].Probability - predictions[i].ProbabilityUnder(logits);
        });
        return inputs.Select((input, i) => new SaliencyMap(Name, input, predictions[i], raw[i],
            ScoreNormalization.AbsL1(raw[i]), new Dictionary<string, double>())).ToArray();
    }
}
