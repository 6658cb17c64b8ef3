using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Attacks;

/// <summary>Reference defaults of docs/method.md section 10: beam 1 (the SST-2 and SNLI scripts), every segment.</summary>
public sealed record InputReductionOptions
{
    public int BeamSize { get; init; } = 1;
    /// <summary>For pairs: reduce only the premise (First) or the hypothesis (Second).</summary>
    public Segment Segment { get; init; } = Segment.All;
}

/// <summary>One reduction step that kept the prediction: the input at that point and the model's confidence.</summary>
public sealed record ReductionStep(int[] Positions, string[] Tokens, float Probability);

/// <summary>The shortest input found that keeps the original prediction, and every step to it.</summary>
public sealed record ReductionResult(TokenizedInput Original, int Label, int[] KeptPositions, string[] ReducedTokens, IReadOnlyList<ReductionStep> Trace)
{
    /// <summary>Word pieces left, [CLS] and [SEP] excluded (docs/method.md 12.2).</summary>
    public int ReducedLength => KeptPositions.Count(p => !Original.Spans[p].IsSpecial);
    public int OriginalLength => Original.Spans.Count(s => !s.IsSpecial);
}

/// <summary>
/// Input reduction (Feng et al. 2018) as the paper's fork runs it: a beam search that repeatedly removes the token with
/// the smallest |gradient . embedding| while the prediction stays the same. All inputs advance in lockstep so that
/// every beam of every input in a step shares the engine's batch axis.
/// </summary>
[Analysis("reduction", "input reduction")]
public sealed class InputReduction(InputReductionOptions? options = null) : Attack<ReductionResult>
{
    readonly InputReductionOptions _options = options ?? new();

    sealed class State(TokenizedInput input, Prediction original, int minimum)
    {
        public readonly TokenizedInput Input = input;
        public readonly Prediction Original = original;
        public readonly int Minimum = minimum;
        public int[] Current = Enumerable.Range(0, input.Length).ToArray();
        public List<int[]> Candidates = [Enumerable.Range(0, input.Length).ToArray()];
        public readonly List<ReductionStep> Trace = [];
        public bool Active => Current.Length > Minimum && Candidates.Count > 0;
    }

    /// <summary>Stop when no more than this many tokens are left (docs/method.md 10, step 2).</summary>
    public static int MinimumLength(TokenizedInput input, Segment segment)
    {
        int seps = input.Tokens.Count(t => t == "[SEP]");
        return segment switch
        {
            Segment.First => input.Length - input.FirstSepIndex + 1 + 1,
            Segment.Second => input.FirstSepIndex + seps + 1,
            _ => input.Spans.Count(s => s.IsSpecial) + 1,
        };
    }

    protected override IReadOnlyList<ReductionResult> Perform(GradientEngine engine, IReadOnlyList<TokenizedInput> inputs, IReadOnlyList<Prediction> predictions)
    {
        if (_options.BeamSize < 1) throw new FacadeException($"The input-reduction beam size must be at least 1 (got {_options.BeamSize}).");
        // Span models: only question tokens go, and the answer span must stay the same, one position further left for
        // every deleted token (docs/method.md 10).
        var segment = engine.EditableSegment(_options.Segment, "Input reduction");
        var states = inputs.Select((x, i) => new State(x, predictions[i], MinimumLength(x, segment))).ToArray();
        while (states.Any(s => s.Active))
        {
            var beams = new List<(State State, int[] Positions)>();
            foreach (var state in states.Where(s => s.Active))
            {
                // The k shortest candidates (stable, as Python's sort).
                beams.AddRange(state.Candidates.OrderBy(c => c.Length).Take(_options.BeamSize).Select(c => (state, c)));
                state.Candidates = [];
            }
            var samples = beams.Select(b => engine.Sample(b.Positions.Select(p => b.State.Input.Ids[p]).ToArray(),
                b.Positions.Select(p => b.State.Input.TypeIds[p]).ToArray(), b.State.Original)).ToArray();
            engine.Gradients(samples, (k, logits, gradient) =>
            {
                var (state, positions) = beams[k];
                if (!state.Original.SameAs(engine.Decode(state.Input.Keep(positions), logits))) return;   // this beam changed the prediction: drop it
                state.Current = positions;
                state.Trace.Add(new ReductionStep(positions, positions.Select(p => state.Input.Tokens[p]).ToArray(), state.Original.ProbabilityUnder(logits)));
                var scores = ScoreNormalization.GradientTimesInput(gradient, samples[k].Embeddings, engine.Hidden);
                var removable = Enumerable.Range(0, positions.Length)
                    .Where(j => state.Input.InSegment(positions[j], segment))
                    .OrderBy(j => Math.Abs(scores[j])).ThenBy(j => j)
                    .Take(_options.BeamSize);
                foreach (int j in removable)
                    state.Candidates.Add([.. positions[..j], .. positions[(j + 1)..]]);
            });
        }
        return states.Select(s => new ReductionResult(s.Input, s.Original.Label, s.Current, s.Current.Select(p => s.Input.Tokens[p]).ToArray(), s.Trace)).ToArray();
    }
}
