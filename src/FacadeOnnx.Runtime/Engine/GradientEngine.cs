using FacadeOnnx.Graph;
using FacadeOnnx.Text;
using Microsoft.ML.OnnxRuntime;
using C = FacadeOnnx.Graph.Contract.GradientModelContract;

namespace FacadeOnnx.Runtime.Engine;

/// <summary>
/// The ONNX Runtime engine under every analysis: one gradient session (and a forward session derived from the same
/// file, for gradient-free work), created once and shared by concurrent callers. It owns the word-embedding lookup
/// and the batch axis: samples stream in, are grouped into as few session runs as the budget allows, and their
/// outputs stream out to the caller in order. Methods never touch ONNX Runtime themselves.
/// </summary>
public sealed class GradientEngine : IDisposable
{
    readonly InferenceSession _gradient;
    readonly InferenceSession _forward;
    readonly EngineOptions _options;
    readonly long _bytesPerToken;
    readonly long _bytesPerAttentionCell;
    long _gradientRuns, _forwardRuns;

    public GradientModelInfo Model { get; }
    public WordPieceTokenizer Tokenizer { get; }
    /// <summary>cpu or cuda: the device actually in use (after any fallback).</summary>
    public string Device { get; }
    public int Hidden => Model.Hidden;
    public int MaxLength { get; }

    /// <summary>Session runs so far (gradient and forward), for batching checks and benchmarks.</summary>
    public long GradientRuns => Interlocked.Read(ref _gradientRuns);
    public long ForwardRuns => Interlocked.Read(ref _forwardRuns);

    GradientEngine(GradientModelInfo info, byte[] gradientBytes, byte[] forwardBytes, WordPieceTokenizer tokenizer, EngineOptions options)
    {
        Model = info;
        Tokenizer = tokenizer;
        _options = options;
        MaxLength = Math.Min(options.MaxLength ?? info.MaxLength, info.MaxPositions);
        var log = options.Log ?? Console.Error;
        (_gradient, Device) = CreateSession(gradientBytes, options, log);
        (_forward, _) = CreateSession(forwardBytes, options with { Device = Device }, TextWriter.Null);
        int layers = int.Parse(info.Metadata.GetValueOrDefault(C.Keys.Layers, "12"));
        int heads = int.Parse(info.Metadata.GetValueOrDefault(C.Keys.Heads, (info.Hidden / 32).ToString()));
        int intermediate = int.Parse(info.Metadata.GetValueOrDefault(C.Keys.Intermediate, (4 * info.Hidden).ToString()));
        // Activations kept for the backward pass, doubled for the transient gradients: per token ~10 hidden-wide and
        // 3 FFN-wide tensors per layer, per attention cell (query x key) ~3 values per head per layer.
        _bytesPerToken = 2L * 4 * layers * (10L * info.Hidden + 3L * intermediate);
        _bytesPerAttentionCell = 2L * 4 * layers * 3L * heads;
    }

    /// <summary>Loads a gradient model (see the README for how to export one) and its tokenizer.</summary>
    public static GradientEngine Load(string path, EngineOptions? options = null)
    {
        options ??= new EngineOptions();
        var (info, model) = GradientModelInfo.Read(path);
        var tokenizer = options.VocabPath != null ? WordPieceTokenizer.FromVocabFile(options.VocabPath)
            : info.EmbeddedVocab != null ? WordPieceTokenizer.FromVocabText(info.EmbeddedVocab)
            : WordPieceTokenizer.MiniLm();
        if (tokenizer.VocabHash != info.VocabHash)
            throw new FacadeException(
                $"The tokenizer's vocabulary (sha256 {tokenizer.VocabHash[..12]}…) does not match the model's ({info.VocabHash[..12]}…) " +
                $"declared in '{path}'. Use the vocabulary the model was trained with.");
        if (tokenizer.VocabSize != info.VocabSize)
            throw new FacadeException($"'{path}': the word-embedding matrix has {info.VocabSize} rows but the vocabulary has {tokenizer.VocabSize} entries.");
        byte[] forward = OnnxFile.ToBytes(GraphPruning.KeepOutputs(model, C.Logits));
        return new GradientEngine(info, File.ReadAllBytes(path), forward, tokenizer, options);
    }

    static (InferenceSession Session, string Device) CreateSession(byte[] bytes, EngineOptions options, TextWriter log)
    {
        var settings = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = options.Threads ?? Environment.ProcessorCount,
        };
        string device = options.Device.ToLowerInvariant();
        if (device is not ("cpu" or "cuda"))
            throw new FacadeException($"Unknown device '{options.Device}'; expected cpu or cuda.");
        if (device == "cuda")
        {
            try
            {
                settings.AppendExecutionProvider_CUDA(0);
            }
            catch (Exception e)
            {
                log.WriteLine($"note: CUDA could not start ({e.Message.Split('\n')[0].Trim()}); running on CPU.");
                device = "cpu";
                settings.Dispose();
                return CreateSession(bytes, options with { Device = "cpu" }, log);
            }
        }
        try
        {
            return (new InferenceSession(bytes, settings), device);
        }
        catch (OnnxRuntimeException e)
        {
            throw new FacadeException($"ONNX Runtime cannot load the model: {e.Message}", e);
        }
    }

    // ---- inputs ------------------------------------------------------------------------------------------------

    /// <summary>Tokenizes text (and an optional pair) up to the model's maximum length.</summary>
    public TokenizedInput Encode(string text, string? pair = null)
    {
        if (string.IsNullOrWhiteSpace(text) || (pair != null && string.IsNullOrWhiteSpace(pair)))
            throw new FacadeException("The text to analyse is empty; give a sentence (and, for pairs, a non-empty second sentence).");
        return Tokenizer.Encode(text, pair, MaxLength);
    }

    /// <summary>The word-embedding lookup of <paramref name="ids"/>, [length, hidden] row-major.</summary>
    public float[] Embed(ReadOnlySpan<int> ids)
    {
        var result = new float[ids.Length * Hidden];
        for (int t = 0; t < ids.Length; t++)
        {
            if ((uint)ids[t] >= (uint)Model.VocabSize) throw new FacadeException($"Token id {ids[t]} is outside the vocabulary ({Model.VocabSize}).");
            Model.WordEmbeddings.AsSpan(ids[t] * Hidden, Hidden).CopyTo(result.AsSpan(t * Hidden, Hidden));
        }
        return result;
    }

    public EngineSample Sample(TokenizedInput input, int target = -1) => new(Embed(input.Ids), input.TypeIds, target);

    /// <summary>The word-embedding row of one vocabulary entry.</summary>
    public ReadOnlySpan<float> EmbeddingRow(int id) => Model.WordEmbeddings.AsSpan(id * Hidden, Hidden);

    // ---- runs --------------------------------------------------------------------------------------------------

    /// <summary>Logits and d loss / d embeddings for every sample, in order, with as few gradient runs as the budget allows.</summary>
    public void Gradients(IEnumerable<EngineSample> samples, SampleConsumer consume) => Run(samples, consume, withGradient: true);

    /// <summary>Logits only, through the forward session (about half the cost of a gradient run).</summary>
    public void Logits(IEnumerable<EngineSample> samples, SampleConsumer consume) => Run(samples, consume, withGradient: false);

    /// <summary>Predictions of many inputs (forward session, batched by length).</summary>
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<TokenizedInput> inputs)
    {
        var predictions = new Prediction[inputs.Count];
        var order = Enumerable.Range(0, inputs.Count).OrderBy(i => inputs[i].Length).ToArray();
        Logits(order.Select(i => Sample(inputs[i])), (k, logits, _) => predictions[order[k]] = Prediction.FromLogits(logits));
        return predictions;
    }

    /// <summary>How many samples of this length one session run may take.</summary>
    public int SamplesPerRun(int length)
    {
        long perSample = _bytesPerToken * length + _bytesPerAttentionCell * length * length;
        long byMemory = Math.Max(1, _options.MemoryBudgetMB * 1024L * 1024L / Math.Max(1, perSample));
        return (int)Math.Max(1, Math.Min(_options.BatchBudget, byMemory));
    }

    void Run(IEnumerable<EngineSample> samples, SampleConsumer consume, bool withGradient)
    {
        var chunk = new List<EngineSample>();
        int first = 0, longest = 0;
        foreach (var sample in samples)
        {
            if (sample.Embeddings.Length != sample.Length * Hidden)
                throw new ArgumentException($"A sample has {sample.Embeddings.Length} embedding values for {sample.Length} tokens of width {Hidden}.");
            if (sample.Length > Model.MaxPositions)
                throw new FacadeException($"An input of {sample.Length} tokens exceeds the model's {Model.MaxPositions} positions.");
            int nextLongest = Math.Max(longest, sample.Length);
            if (chunk.Count > 0 && chunk.Count + 1 > SamplesPerRun(nextLongest))
            {
                RunChunk(chunk, first, consume, withGradient);
                first += chunk.Count;
                chunk.Clear();
                nextLongest = sample.Length;
            }
            chunk.Add(sample);
            longest = nextLongest;
        }
        if (chunk.Count > 0) RunChunk(chunk, first, consume, withGradient);
    }

    void RunChunk(List<EngineSample> chunk, int first, SampleConsumer consume, bool withGradient)
    {
        int n = chunk.Count, h = Hidden, t = chunk.Max(s => s.Length);
        var embeds = new float[n * t * h];
        var mask = new long[n * t];
        var types = new long[n * t];
        var targets = new long[n];
        for (int i = 0; i < n; i++)
        {
            var s = chunk[i];
            s.Embeddings.CopyTo(embeds, i * t * h);
            for (int p = 0; p < s.Length; p++)
            {
                mask[i * t + p] = 1;
                types[i * t + p] = s.TypeIds[p];
            }
            targets[i] = s.Target;
        }
        using var embedsValue = OrtValue.CreateTensorValueFromMemory(embeds, [n, t, h]);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, [n, t]);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(types, [n, t]);
        using var run = new RunOptions();
        int classes = Model.NumLabels;
        if (withGradient)
        {
            using var targetValue = OrtValue.CreateTensorValueFromMemory(targets, [n]);
            using var results = _gradient.Run(run, [C.InputsEmbeds, C.AttentionMask, C.TokenTypeIds, C.Target],
                [embedsValue, maskValue, typesValue, targetValue], [C.Logits, C.InputsEmbedsGrad]);
            Interlocked.Increment(ref _gradientRuns);
            var logits = results[0].GetTensorDataAsSpan<float>();
            var grads = results[1].GetTensorDataAsSpan<float>();
            for (int i = 0; i < n; i++)
                consume(first + i, logits.Slice(i * classes, classes), grads.Slice(i * t * h, chunk[i].Length * h));
        }
        else
        {
            using var results = _forward.Run(run, [C.InputsEmbeds, C.AttentionMask, C.TokenTypeIds],
                [embedsValue, maskValue, typesValue], [C.Logits]);
            Interlocked.Increment(ref _forwardRuns);
            var logits = results[0].GetTensorDataAsSpan<float>();
            for (int i = 0; i < n; i++) consume(first + i, logits.Slice(i * classes, classes), ReadOnlySpan<float>.Empty);
        }
    }

    public void Dispose()
    {
        _gradient.Dispose();
        _forward.Dispose();
    }
}
