using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Faithfulness;

/// <summary>
/// Comprehensiveness, sufficiency (by removal and by [MASK]) and the deletion curve of saliency maps, from forward
/// passes only: every erased input of every map goes through <see cref="GradientEngine.Logits"/> in one batched
/// stream, as leave-one-out's do. Any method's maps can be measured, gradient-based or not; tokens are taken in the
/// order of <see cref="TokenErasure.RankedTokens"/>, and [CLS] and [SEP] are never erased. For span models only
/// question tokens are erased and ranked, and the probability is the predicted answer span's, read as many positions
/// further left as question tokens were deleted (as leave-one-out does).
/// </summary>
public static class FaithfulnessMeasures
{
    /// <summary>One <see cref="FaithfulnessScores"/> per map, in order.</summary>
    public static FaithfulnessScores[] Measure(GradientEngine engine, IReadOnlyList<SaliencyMap> maps, FaithfulnessOptions? options = null)
    {
        options ??= new FaithfulnessOptions();
        options.Validate();
        var segment = engine.EditableSegment(Segment.All, "Faithfulness (comprehensiveness, sufficiency, deletion curves)");
        var runs = new ErasedInputRuns();
        var plans = maps.Select(map => Plan(engine, map, options, runs, segment)).ToArray();
        runs.Run(engine);
        return plans.Select(plan => plan(runs)).ToArray();
    }

    /// <summary>The maps of every method for the same inputs, measured in one stream; per method, one score per input.</summary>
    public static Dictionary<string, FaithfulnessScores[]> ByMethod(GradientEngine engine, IReadOnlyDictionary<string, IReadOnlyList<SaliencyMap>> maps,
        FaithfulnessOptions? options = null)
    {
        var all = Measure(engine, maps.Values.SelectMany(m => m).ToArray(), options);
        var byMethod = new Dictionary<string, FaithfulnessScores[]>();
        int next = 0;
        foreach (var (method, list) in maps)
        {
            byMethod[method] = all[next..(next + list.Count)];
            next += list.Count;
        }
        return byMethod;
    }

    /// <summary>How many tokens a bin holds: ceil(percent x n / 100), at least 1 (none when n is 0).</summary>
    public static int BinTokens(int percent, int tokens) => Math.Min(tokens, Math.Max(1, (percent * tokens + 99) / 100));

    /// <summary>Adds the erased inputs of one map to <paramref name="runs"/>; returns how to read its scores once they ran.</summary>
    static Func<ErasedInputRuns, FaithfulnessScores> Plan(GradientEngine engine, SaliencyMap map, FaithfulnessOptions options, ErasedInputRuns runs, Segment segment)
    {
        var ranked = TokenErasure.RankedTokens(map).Where(p => map.Input.InSegment(p, segment)).ToArray();
        int n = ranked.Length, mask = engine.Tokenizer.MaskId;
        // Slot -1 is the full input, whose probability the map's prediction already holds.
        int Slot(int[] erased, OcclusionMode mode) => erased.Length == 0 ? -1 : runs.Add(TokenErasure.Erase(map.Input, erased, mode, mask));
        int[] bins = options.BinPercents.Select(p => BinTokens(p, n)).ToArray();
        int[] Slots(bool keepTop, OcclusionMode mode) => bins.Select(k => Slot(keepTop ? ranked[k..] : ranked[..k], mode)).ToArray();
        int[] comprehensiveRemoval = Slots(false, OcclusionMode.Remove), sufficientRemoval = Slots(true, OcclusionMode.Remove);
        int[] comprehensiveMask = Slots(false, OcclusionMode.Mask), sufficientMask = Slots(true, OcclusionMode.Mask);
        int[] steps = DeletionCurve.Steps(n, options.MaxDeletionSteps);
        int[] deletion = steps.Select(k => Slot(ranked[..k], OcclusionMode.Remove)).ToArray();
        return done =>
        {
            float full = map.Probability;
            float P(int slot) => slot < 0 ? full : done.Probability(slot, map.Prediction);
            float[] Drops(int[] slots) => slots.Select(s => full - P(s)).ToArray();
            return new FaithfulnessScores(bins, Drops(comprehensiveRemoval), Drops(sufficientRemoval), Drops(comprehensiveMask),
                Drops(sufficientMask), new DeletionCurve(n, steps, deletion.Select(P).ToArray()));
        };
    }
}
