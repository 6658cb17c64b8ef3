using System.Globalization;
using System.Numerics.Tensors;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Attacks;

public sealed record HotFlipOptions
{
    /// <summary>For pairs: flip only the premise (First) or the hypothesis (Second).</summary>
    public Segment Segment { get; init; } = Segment.All;
    /// <summary>Give up after this many flips (default: when no position is left, as the reference does).</summary>
    public int? MaxFlips { get; init; }
}

/// <summary>One flip: where, from what to what, and the model's state after it (span models: the label stays 0 and
/// <see cref="SpanAfter"/> is the answer span after the flip).</summary>
public sealed record FlipStep(int Position, string From, string To, int ToId, int LabelAfter, float OriginalLabelProbability)
{
    public SpanPrediction? SpanAfter { get; init; }
}

public sealed record HotFlipResult(TokenizedInput Original, int Label, bool Success, int[] FinalIds, string[] FinalTokens, IReadOnlyList<FlipStep> Trace)
{
    public int Flips => Trace.Count;
}

/// <summary>
/// HotFlip (Ebrahimi et al. 2018) as the paper's fork runs it (docs/method.md section 11): flip the eligible position with
/// the largest squared gradient norm to the vocabulary entry that most increases the loss to first order,
/// argmax_w G . (E_w - E_x), one flip per position, until the label changes or no position is left. Only
/// alphanumeric vocabulary entries are candidates. Flipped tokens keep their segment's type id (the reference writes
/// type 0, a bug for second segments; docs/method.md 15.7). All inputs advance in lockstep through the batch axis.
/// Span models: only question tokens are flipped, and the attack succeeds when the answer span changes.
/// </summary>
[Analysis("hotflip", "HotFlip")]
public sealed class HotFlip(HotFlipOptions? options = null) : Attack<HotFlipResult>
{
    static readonly HashSet<string> Ignored = ["@@NULL@@", ".", ",", ";", "!", "?", "[MASK]", "[SEP]", "[CLS]"];
    readonly HotFlipOptions _options = options ?? new();

    sealed class State(TokenizedInput input, Prediction original, Segment segment)
    {
        public readonly TokenizedInput Input = input;
        public readonly Prediction Original = original;
        public readonly int[] Ids = input.Ids.ToArray();
        public readonly bool[] Used = Enumerable.Range(0, input.Length)
            .Select(t => Ignored.Contains(input.Tokens[t]) || !input.InSegment(t, segment)).ToArray();
        public readonly List<FlipStep> Trace = [];
        public bool Done, Success;
    }

    /// <summary>Vocabulary entries made only of letters and digits (Python's str.isalnum), as the reference allows.</summary>
    public static int[] CandidateIds(WordPieceTokenizer tokenizer) =>
        Enumerable.Range(0, tokenizer.VocabSize).Where(id =>
        {
            string token = tokenizer.IdToToken(id);
            return token.Length > 0 && token.All(c => char.GetUnicodeCategory(c) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
                or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
                or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber);
        }).ToArray();

    int[] _candidates = [];

    /// <summary>The candidate list depends only on the vocabulary: built once per engine.</summary>
    protected override void Initialize(GradientEngine engine) => _candidates = CandidateIds(engine.Tokenizer);

    protected override IReadOnlyList<HotFlipResult> Perform(GradientEngine engine, IReadOnlyList<TokenizedInput> inputs, IReadOnlyList<Prediction> predictions)
    {
        int[] candidates = _candidates;
        int h = engine.Hidden;
        var segment = engine.EditableSegment(_options.Segment, "HotFlip");
        var states = inputs.Select((x, i) => new State(x, predictions[i], segment)).ToArray();
        while (states.Any(s => !s.Done))
        {
            var active = states.Where(s => !s.Done).ToArray();
            engine.Gradients(active.Select(s => engine.Sample(s.Ids, s.Input.TypeIds, s.Original)), (k, logits, gradient) =>
            {
                var state = active[k];
                // A flip keeps the length: the span model's context, and so its answer positions, stay where they were.
                var prediction = engine.Decode(state.Input, logits);
                if (state.Trace.Count > 0)
                {
                    var last = state.Trace[^1];
                    state.Trace[^1] = last with { LabelAfter = prediction.Label, OriginalLabelProbability = state.Original.ProbabilityUnder(logits), SpanAfter = prediction.Span };
                    if (!state.Original.SameAs(prediction)) { state.Done = state.Success = true; return; }
                }
                if (_options.MaxFlips is int max && state.Trace.Count >= max) { state.Done = true; return; }
                int position = -1;
                float best = float.NegativeInfinity;
                for (int t = 0; t < state.Ids.Length; t++)
                {
                    if (state.Used[t]) continue;
                    float norm = TensorPrimitives.SumOfSquares(gradient.Slice(t * h, h));
                    if (norm > best) (best, position) = (norm, t);
                }
                if (position < 0) { state.Done = true; return; }
                var g = gradient.Slice(position * h, h);
                int replacement = -1;
                float bestScore = float.NegativeInfinity;
                foreach (int id in candidates)
                {
                    float score = TensorPrimitives.Dot(g, engine.EmbeddingRow(id));
                    if (score > bestScore) (bestScore, replacement) = (score, id);
                }
                state.Trace.Add(new FlipStep(position, engine.Tokenizer.IdToToken(state.Ids[position]), engine.Tokenizer.IdToToken(replacement), replacement, state.Original.Label, float.NaN));
                state.Ids[position] = replacement;
                state.Used[position] = true;
            });
        }
        return states.Select(s => new HotFlipResult(s.Input, s.Original.Label, s.Success, s.Ids, s.Ids.Select(engine.Tokenizer.IdToToken).ToArray(), s.Trace)).ToArray();
    }
}
