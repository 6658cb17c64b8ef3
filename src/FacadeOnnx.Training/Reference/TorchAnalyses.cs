using FacadeOnnx.Runtime.Attacks;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Reference;

/// <summary>
/// Independent implementations in TorchSharp eager mode (autograd on the BertClassifier) of the analyses beyond the
/// gradient maps, written from docs/method.md sections 10 and 11 without the engine's code: leave-one-out, input
/// reduction and HotFlip. They return the engine's records (<see cref="SaliencyMap"/>, <see cref="ReductionResult"/>,
/// <see cref="HotFlipResult"/>), so the two can be compared element by element and rendered by the same tables. With <see cref="Facade.TorchSaliency"/> (simple gradient, SmoothGrad, Integrated Gradients) they are the
/// reference the ONNX Runtime engine is checked against in the parity tests, and the "TorchSharp eager" side of
/// `facade bench`. Samples are padded into batches of at most <see cref="BatchBudget"/>, as the engine does.
/// </summary>
public sealed class TorchAnalyses(BertClassifier model, int batchBudget = 64)
{
    public int BatchBudget { get; } = batchBudget;
    public long Runs { get; private set; }
    int Hidden => model.Config.Hidden;

    public sealed record Sample(float[] Embeddings, int[] Types, int Target);

    public float[] Embed(IReadOnlyList<int> ids)
    {
        using var _ = no_grad();
        using var idTensor = tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Count]);
        using var e = model.embeddings.Lookup(idTensor);
        return e.data<float>().ToArray();
    }

    /// <summary>Logits and (optionally) d CE(target) / d embeddings for each sample, batched and padded.</summary>
    public (float[][] Logits, float[][]? Gradients) Run(IReadOnlyList<Sample> samples, bool withGradient = true)
    {
        model.eval();
        var logits = new float[samples.Count][];
        var grads = withGradient ? new float[samples.Count][] : null;
        int h = Hidden;
        for (int start = 0; start < samples.Count; start += BatchBudget)
        {
            var chunk = samples.Skip(start).Take(BatchBudget).ToArray();
            int n = chunk.Length, t = chunk.Max(s => s.Types.Length);
            var embeds = new float[n * t * h];
            var mask = new long[n * t];
            var types = new long[n * t];
            for (int i = 0; i < n; i++)
            {
                chunk[i].Embeddings.CopyTo(embeds, i * t * h);
                for (int p = 0; p < chunk[i].Types.Length; p++) { mask[i * t + p] = 1; types[i * t + p] = chunk[i].Types[p]; }
            }
            using var scope = NewDisposeScope();
            var e = tensor(embeds, [n, t, h]);
            if (withGradient) e.requires_grad_();
            using var gradMode = withGradient ? enable_grad() : no_grad();
            var z = model.LogitsFromEmbeddings(e, tensor(mask, [n, t]), tensor(types, [n, t]));
            Runs++;
            var zf = z.detach().data<float>().ToArray();
            int c = (int)z.shape[1];
            for (int i = 0; i < n; i++) logits[start + i] = zf[(i * c)..((i + 1) * c)];
            if (!withGradient) continue;
            var target = tensor(chunk.Select(s => (long)s.Target).ToArray(), [n]);
            var loss = nn.functional.cross_entropy(z, target, reduction: nn.Reduction.Sum);
            var g = autograd.grad([loss], [e])[0].data<float>().ToArray();
            for (int i = 0; i < n; i++) grads![start + i] = g[(i * t * h)..(i * t * h + chunk[i].Types.Length * h)];
        }
        return (logits, grads);
    }

    public int[] Predict(IReadOnlyList<TokenizedInput> inputs) =>
        Run(inputs.Select(x => new Sample(Embed(x.Ids), x.TypeIds, 0)).ToArray(), withGradient: false).Logits.Select(ArgMax).ToArray();

    /// <summary>Drop in the label's probability when each non-special token is removed.</summary>
    public IReadOnlyList<SaliencyMap> LeaveOneOut(IReadOnlyList<TokenizedInput> inputs, int[] labels)
    {
        var samples = new List<Sample>();
        var owners = new List<(int, int)>();
        foreach (var (x, i) in inputs.Select((x, i) => (x, i)))
        {
            samples.Add(new Sample(Embed(x.Ids), x.TypeIds, labels[i]));
            owners.Add((i, -1));
            for (int t = 0; t < x.Length; t++)
            {
                if (x.Spans[t].IsSpecial) continue;
                var keep = Enumerable.Range(0, x.Length).Where(p => p != t).ToArray();
                samples.Add(new Sample(Embed(keep.Select(p => x.Ids[p]).ToArray()), keep.Select(p => x.TypeIds[p]).ToArray(), labels[i]));
                owners.Add((i, t));
            }
        }
        var (logits, _) = Run(samples, withGradient: false);
        var raw = inputs.Select(x => new float[x.Length]).ToArray();
        var baseline = new float[inputs.Count];
        var predictions = new Prediction[inputs.Count];
        for (int s = 0; s < samples.Count; s++)
        {
            var (i, t) = owners[s];
            float p = Softmax(logits[s])[labels[i]];
            if (t < 0) (baseline[i], predictions[i]) = (p, Prediction.FromLogits(logits[s]));
            else raw[i][t] = baseline[i] - p;
        }
        return inputs.Select((x, i) => new SaliencyMap(AnalysisName<Runtime.Saliency.LeaveOneOut>(), x, predictions[i], raw[i], Normalize(raw[i]),
            new Dictionary<string, double>())).ToArray();
    }

    /// <summary>
    /// Span models: the drop in the answer span's probability, softmax over the context of the start logits at its start
    /// times that of the end logits at its end, when each question token is deleted (the span then sits one position to
    /// the left); context tokens score 0. One input at a time.
    /// </summary>
    public IReadOnlyList<SaliencyMap> SpanLeaveOneOut(IReadOnlyList<TokenizedInput> inputs, IReadOnlyList<Prediction> predictions)
    {
        model.eval();
        var maps = new SaliencyMap[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            var x = inputs[i];
            var span = predictions[i].Span ?? throw new ArgumentException($"input {i} has no span prediction");
            var all = Enumerable.Range(0, x.Length).ToArray();
            double full = SpanProbability(x, all, span.Start, span.End);
            var raw = new float[x.Length];
            for (int t = 1; t < x.FirstSepIndex; t++)
                raw[t] = (float)(full - SpanProbability(x, all.Where(p => p != t).ToArray(), span.Start - 1, span.End - 1));
            maps[i] = new SaliencyMap(AnalysisName<Runtime.Saliency.LeaveOneOut>(), x, predictions[i], raw, Normalize(raw), new Dictionary<string, double>());
        }
        return maps;
    }

    /// <summary>p(start) · p(end) of the tokens <paramref name="keep"/> of <paramref name="input"/>, each a softmax over
    /// the context: from after the first [SEP] to before the last token.</summary>
    double SpanProbability(TokenizedInput input, int[] keep, int start, int end)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        int n = keep.Length, first = Array.IndexOf(keep, input.FirstSepIndex) + 1, last = n - 2;
        var ids = tensor(keep.Select(p => (long)input.Ids[p]).ToArray(), [1, n]);
        var types = tensor(keep.Select(p => (long)input.TypeIds[p]).ToArray(), [1, n]);
        var logits = model.LogitsFromEmbeddings(model.embeddings.Lookup(ids), ones(1, n, dtype: ScalarType.Int64), types)[0].to_type(ScalarType.Float64);
        var context = logits.narrow(0, first, last - first + 1);
        var logStart = nn.functional.log_softmax(context[.., 0], 0);
        var logEnd = nn.functional.log_softmax(context[.., 1], 0);
        return Math.Exp(logStart[start - first].item<double>() + logEnd[end - first].item<double>());
    }

    /// <summary>Input reduction with beam 1 over all tokens, one input at a time, as the paper's loop.</summary>
    public ReductionResult InputReduction(TokenizedInput input, int label)
    {
        var trace = new List<ReductionStep>();
        var current = Enumerable.Range(0, input.Length).ToArray();
        int[]? candidate = current;
        int minimum = input.Spans.Count(s => s.IsSpecial) + 1;
        while (current.Length > minimum && candidate != null)
        {
            var ids = candidate.Select(p => input.Ids[p]).ToArray();
            var sample = new Sample(Embed(ids), candidate.Select(p => input.TypeIds[p]).ToArray(), label);
            var (logits, grads) = Run([sample]);
            if (ArgMax(logits[0]) != label) break;
            current = candidate;
            trace.Add(new ReductionStep(current, current.Select(p => input.Tokens[p]).ToArray(), Softmax(logits[0])[label]));
            var scores = Dot(grads![0], sample.Embeddings);
            int remove = -1;
            for (int j = 0; j < current.Length; j++)
                if (!input.Spans[current[j]].IsSpecial && (remove < 0 || Math.Abs(scores[j]) < Math.Abs(scores[remove]))) remove = j;
            candidate = remove < 0 ? null : current.Where((_, j) => j != remove).ToArray();
        }
        return new ReductionResult(input, label, current, current.Select(p => input.Tokens[p]).ToArray(), trace);
    }

    /// <summary>HotFlip with the reference's ignore list and the given candidates, one input at a time.</summary>
    public HotFlipResult HotFlip(TokenizedInput input, int label, IReadOnlyList<int> candidateIds, Func<int, string> token)
    {
        var trace = new List<FlipStep>();
        string[] ignored = ["@@NULL@@", ".", ",", ";", "!", "?", "[MASK]", "[SEP]", "[CLS]"];
        var ids = input.Ids.ToArray();
        HotFlipResult Result(bool success) => new(input, label, success, ids, ids.Select(token).ToArray(), trace);
        var used = input.Tokens.Select(t => ignored.Contains(t)).ToArray();
        using var matrix = model.embeddings.word.weight!.detach().index_select(0, tensor(candidateIds.Select(i => (long)i).ToArray()));
        while (true)
        {
            var (logits, grads) = Run([new Sample(Embed(ids), input.TypeIds, label)]);
            if (trace.Count > 0)
            {
                trace[^1] = trace[^1] with { LabelAfter = ArgMax(logits[0]), OriginalLabelProbability = Softmax(logits[0])[label] };
                if (ArgMax(logits[0]) != label) return Result(true);
            }
            int h = Hidden, best = -1;
            double bestNorm = double.NegativeInfinity;
            for (int t = 0; t < ids.Length; t++)
            {
                if (used[t]) continue;
                double norm = 0;
                for (int d = 0; d < h; d++) norm += (double)grads![0][t * h + d] * grads[0][t * h + d];
                if (norm > bestNorm) (bestNorm, best) = (norm, t);
            }
            if (best < 0) return Result(false);
            using var g = tensor(grads![0][(best * h)..((best + 1) * h)], [h]);
            using var scores = matrix.matmul(g);
            int replacement = candidateIds[(int)scores.argmax().item<long>()];
            trace.Add(new FlipStep(best, token(ids[best]), token(replacement), replacement, label, float.NaN));
            ids[best] = replacement;
            used[best] = true;
        }
    }

    float[] Dot(float[] gradient, float[] embeddings)
    {
        int h = Hidden, length = embeddings.Length / h;
        var scores = new float[length];
        for (int t = 0; t < length; t++)
        {
            double sum = 0;
            for (int d = 0; d < h; d++) sum += (double)gradient[t * h + d] * embeddings[t * h + d];
            scores[t] = (float)sum;
        }
        return scores;
    }

    static float[] Normalize(float[] raw)
    {
        double total = raw.Sum(v => Math.Abs((double)v));
        return raw.Select(v => total == 0 ? 0f : (float)(Math.Abs(v) / total)).ToArray();
    }

    static string AnalysisName<T>() => Runtime.AnalysisAttribute.NameOf<T>();

    static int ArgMax(float[] values) => Array.IndexOf(values, values.Max());

    static float[] Softmax(float[] z)
    {
        double max = z.Max();
        var e = z.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => (float)(v / sum)).ToArray();
    }
}
