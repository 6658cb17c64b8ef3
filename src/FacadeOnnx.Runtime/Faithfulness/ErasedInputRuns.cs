using FacadeOnnx.Runtime.Engine;

namespace FacadeOnnx.Runtime.Faithfulness;

/// <summary>
/// The erased inputs of a batch of measurements, each distinct sequence run once through the forward session: bins of
/// a short input often erase the same tokens, comprehensiveness by removal is a point of the deletion curve, and two
/// methods may rank alike, so one forward pass serves them all. Runs shortest first, so chunks carry little padding.
/// </summary>
sealed class ErasedInputRuns
{
    readonly Dictionary<string, int> _slots = new();
    readonly List<(int[] Ids, int[] TypeIds)> _inputs = [];
    float[][] _logits = [];

    /// <summary>The slot whose probabilities <see cref="Probability"/> will read after <see cref="Run"/>.</summary>
    public int Add((int[] Ids, int[] TypeIds) input)
    {
        string key = string.Join(',', input.Ids) + "|" + string.Join(',', input.TypeIds);
        if (_slots.TryGetValue(key, out int slot)) return slot;
        _inputs.Add(input);
        return _slots[key] = _inputs.Count - 1;
    }

    public void Run(GradientEngine engine)
    {
        _logits = new float[_inputs.Count][];
        var order = Enumerable.Range(0, _inputs.Count).OrderBy(s => _inputs[s].Ids.Length).ToArray();
        engine.Logits(order.Select(s => engine.Sample(_inputs[s].Ids, _inputs[s].TypeIds)),
            (k, logits, _) => _logits[order[k]] = logits.ToArray());
    }

    /// <summary>The probability <paramref name="prediction"/> (made on the unerased input) keeps on the slot's input.</summary>
    public float Probability(int slot, Prediction prediction) => prediction.ProbabilityUnder(_logits[slot]);
}
