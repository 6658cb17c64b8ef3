using FacadeOnnx.Graph;
using FacadeOnnx.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using Contract = FacadeOnnx.Graph.Contract.GradientModelContract;

namespace FacadeOnnx.Runtime.Engine;

/// <summary>
/// The ONNX Runtime engine under every analysis: one gradient session (and a forward session derived from the same
/// file, for gradient-free work), created once and shared by concurrent callers. It owns the word-embedding lookup
/// and the batch axis: samples stream in, are grouped into as few session runs as the budget allows, and their
/// outputs stream out to the caller in order. Methods never touch ONNX Runtime themselves. Both sessions (and those of
/// every other engine in the process) run on the one thread pool of <see cref="OrtEnvironment"/>.
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
    /// <summary>The device actually in use (after any fallback).</summary>
    public ExecutionDevice Device { get; }
    /// <summary>Layers, heads and feed-forward width behind the memory estimate.</summary>
    public ModelDimensions Dimensions { get; }
    /// <summary>The model file as parsed when it was loaded (read once), for analyses of the bare model.</summary>
    public ModelProto Graph => Model.Graph;
    public int Hidden => Model.Hidden;
    public int MaxLength { get; }

    /// <summary>Session runs so far (gradient and forward), for batching checks and benchmarks.</summary>
    public long GradientRuns => Interlocked.Read(ref _gradientRuns);
    public long ForwardRuns => Interlocked.Read(ref _forwardRuns);

    GradientEngine(GradientModelInfo info, ModelDimensions dimensions, InferenceSession gradient, InferenceSession forward,
                   ExecutionDevice device, WordPieceTokenizer tokenizer, EngineOptions options)
    {
        Model = info;
        Dimensions = dimensions;
        Tokenizer = tokenizer;
        _options = options;
        _gradient = gradient;
        _forward = forward;
        Device = device;
        MaxLength = Math.Min(options.MaxLength ?? info.MaxLength, info.MaxPositions);
        // Activations kept for the backward pass, doubled for the transient gradients: per token ~10 hidden-wide and
        // 3 FFN-wide tensors per layer, per attention cell (query x key) ~3 values per head per layer.
        _bytesPerToken = 2L * 4 * dimensions.Layers * (10L * info.Hidden + 3L * dimensions.Intermediate);
        _bytesPerAttentionCell = 2L * 4 * dimensions.Layers * 3L * dimensions.Heads;
    }

    /// <summary>Loads a gradient model (see the README for how to export one) and its tokenizer. The file is read
    /// once: its bytes are hashed, parsed and given to the gradient session.</summary>
    public static GradientEngine Load(string path, EngineOptions? options = null) =>
        FromBytes(GradientModelInfo.ReadBytes(path), path, options);

    /// <summary>As <see cref="Load"/>, from a model file's bytes already in memory (<paramref name="path"/> names it).</summary>
    public static GradientEngine FromBytes(byte[] bytes, string path, EngineOptions? options = null)
    {
        options ??= new EngineOptions();
        var log = options.Log ?? Console.Error;
        if (!Enum.IsDefined(options.Device))
            throw new FacadeException($"Unknown device '{options.Device}'; expected cpu or cuda.");
        if (options.Threads is < 1)
            throw new FacadeException($"The thread count must be at least 1 (got {options.Threads}).");
        if (options.BatchBudget < 1)
            throw new FacadeException($"The batch budget must be at least 1 sample (got {options.BatchBudget}).");
        if (options.MemoryBudget < 1)
            throw new FacadeException($"The memory budget must be positive (got {options.MemoryBudget} bytes).");
        var info = GradientModelInfo.FromBytes(bytes, path);
        var tokenizer = options.VocabPath != null ? WordPieceTokenizer.FromVocabFile(options.VocabPath, info.LowerCase)
            : info.EmbeddedVocab != null ? WordPieceTokenizer.FromVocabText(info.EmbeddedVocab, $"embedded in '{path}'", info.LowerCase)
            : WordPieceTokenizer.MiniLm();
        if (tokenizer.VocabHash != info.VocabHash)
            throw new FacadeException(
                $"The tokenizer's vocabulary (sha256 {tokenizer.VocabHash[..12]}…) does not match the model's ({info.VocabHash[..12]}…) " +
                $"declared in '{path}'. Use the vocabulary the model was trained with.");
        if (tokenizer.VocabSize != info.VocabSize)
            throw new FacadeException($"'{path}': the word-embedding matrix has {info.VocabSize} rows but the vocabulary has {tokenizer.VocabSize} entries.");
        var forwardModel = info.IsSpan ? GraphPruning.KeepOutputs(info.Graph, Contract.StartLogits, Contract.EndLogits)
            : GraphPruning.KeepOutputs(info.Graph, Contract.Logits);
        var dimensions = ModelDimensions.Of(forwardModel, info, log);
        byte[] forward = OnnxFile.ToBytes(forwardModel);

        OrtEnvironment.Ensure(options.Threads); // before any other ONNX Runtime object, so that the pool exists
        var device = options.Device;
        if (device == ExecutionDevice.Cuda && CudaProblem() is string problem)
        {
            log.WriteLine($"note: CUDA could not start ({problem}); running on CPU.");
            device = ExecutionDevice.Cpu;
        }
        var gradient = CreateSession(bytes, device, options.Threads);
        InferenceSession forwardSession;
        try
        {
            forwardSession = CreateSession(forward, device, options.Threads);
        }
        catch
        {
            gradient.Dispose();
            throw;
        }
        try
        {
            CheckInputs(gradient, path);
        }
        catch
        {
            gradient.Dispose();
            forwardSession.Dispose();
            throw;
        }
        if (OrtEnvironment.ThreadNote(options.Threads) is string note) log.WriteLine(note);
        return new GradientEngine(info, dimensions, gradient, forwardSession, device, tokenizer, options);
    }

    /// <summary>Why the CUDA execution provider cannot be added to a session (its first line), or null when it can.</summary>
    static string? CudaProblem()
    {
        using var probe = new SessionOptions();
        try
        {
            probe.AppendExecutionProvider_CUDA(0);
            return null;
        }
        catch (Exception e)
        {
            return e.Message.Split('\n')[0].Trim();
        }
    }

    static InferenceSession CreateSession(byte[] bytes, ExecutionDevice device, int? threads)
    {
        try
        {
            return OrtEnvironment.CreateSession(bytes, threads, settings =>
            {
                settings.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
                settings.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR;
                settings.ExecutionMode = ExecutionMode.ORT_SEQUENTIAL;
                if (device == ExecutionDevice.Cuda) settings.AppendExecutionProvider_CUDA(0);
            });
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

    public EngineSample Sample(TokenizedInput input, int target = -1) => Sample(input.Ids, input.TypeIds, target);

    /// <summary>A row of these token ids: their embeddings looked up, the ids kept for models that still read them.</summary>
    public EngineSample Sample(int[] ids, int[] typeIds, int target = -1) => new(Embed(ids), ids, typeIds, target);

    /// <summary>A row of these token ids (an edit of the input <paramref name="prediction"/> was made on) whose gradient
    /// is taken at that prediction: its class, or its span where the edit moved it.</summary>
    public EngineSample Sample(int[] ids, int[] typeIds, Prediction prediction) => EngineSample.At(Embed(ids), ids, typeIds, prediction);

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
        Logits(order.Select(i => Sample(inputs[i])), (k, logits, _) => predictions[order[k]] = Decode(inputs[order[k]], logits));
        return predictions;
    }

    /// <summary>The prediction a sample's logits mean: the argmax class, or for span models the best span.</summary>
    public Prediction Decode(TokenizedInput input, ReadOnlySpan<float> logits) =>
        Model.IsSpan ? Prediction.DecodeSpan(input, logits, Model.MaxAnswerLength) : Prediction.FromLogits(logits);

    /// <summary>
    /// The part of the input an analysis may edit: for span models the question (the paper's QA attacks and leave-one-out
    /// act on it; docs/method.md 10, 11), whatever was asked for otherwise. Asking for a span model's context is refused.
    /// </summary>
    public Segment EditableSegment(Segment requested, string analysis)
    {
        if (!Model.IsSpan) return requested;
        if (requested == Segment.Second)
            throw new FacadeException($"{analysis} edits the question of a span (question answering) model, not its context; '{Model.Path}' is one.");
        return Segment.First;
    }

    /// <summary>How many samples of this length one session run may take.</summary>
    public int SamplesPerRun(int length)
    {
        long perSample = BytesPerSample(length);
        long byMemory = _options.MemoryBudget / Math.Max(1, perSample);
        if (byMemory < 1 && Interlocked.Exchange(ref _overBudgetNoted, 1) == 0)
            (_options.Log ?? Console.Error).WriteLine($"note: one sample of {length} word pieces needs an estimated {ByteSize.Format(perSample)} of " +
                $"activations, more than the memory budget of {ByteSize.Format(_options.MemoryBudget)}; running one sample at a time.");
        return (int)Math.Max(1, Math.Min(_options.BatchBudget, byMemory));
    }

    /// <summary>Estimated activation bytes of one sample of <paramref name="length"/> word pieces in a gradient run.</summary>
    public long BytesPerSample(int length) => _bytesPerToken * length + _bytesPerAttentionCell * length * length;

    int _overBudgetNoted;

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
        var ids = new long[n * t];
        var mask = new long[n * t];
        var types = new long[n * t];
        var positions = new long[n * t];
        var targets = new long[Model.IsSpan ? 2 * n : n];
        for (int i = 0; i < n; i++)
        {
            var s = chunk[i];
            s.Embeddings.CopyTo(embeds, i * t * h);
            for (int p = 0; p < s.Length; p++)
            {
                ids[i * t + p] = s.Ids[p];
                mask[i * t + p] = 1;
                types[i * t + p] = s.TypeIds[p];
            }
            for (int p = 0; p < t; p++) positions[i * t + p] = p;
            if (Model.IsSpan)
                (targets[2 * i], targets[2 * i + 1]) = s.Target < 0 ? (-1L, -1L) : (s.Target, s.TargetEnd);
            else
                targets[i] = s.Target;
        }
        var session = withGradient ? _gradient : _forward;
        var feeds = new List<OrtValue>();
        try
        {
            // Every input the file declares is fed, in the element type it declares (docs/design.md 5).
            foreach (var (name, metadata) in session.InputMetadata)
            {
                long[] shape = name switch { Contract.Target => [n], Contract.TargetSpan => [n, 2], _ => [n, t] };
                feeds.Add(name switch
                {
                    Contract.InputsEmbeds => OrtValue.CreateTensorValueFromMemory(embeds, [n, t, h]),
                    Contract.Target or Contract.TargetSpan => Integers(targets, metadata.ElementDataType, shape),
                    Contract.InputIds => Integers(ids, metadata.ElementDataType, shape),
                    Contract.AttentionMask => Integers(mask, metadata.ElementDataType, shape),
                    Contract.TokenTypeIds => Integers(types, metadata.ElementDataType, shape),
                    _ => Integers(positions, metadata.ElementDataType, shape), // position_ids, checked at load
                });
            }
            using var run = new RunOptions();
            string[] logitNames = Model.IsSpan ? [Contract.StartLogits, Contract.EndLogits] : [Contract.Logits];
            string[] outputs = withGradient ? [.. logitNames, Contract.InputsEmbedsGrad] : logitNames;
            using var results = session.Run(run, session.InputMetadata.Keys.ToArray(), feeds, outputs);
            Interlocked.Increment(ref withGradient ? ref _gradientRuns : ref _forwardRuns);
            if (Model.IsSpan)
            {
                ConsumeSpans(chunk, first, consume, results, t, withGradient);
                return;
            }
            int classes = Model.NumLabels;
            var logits = results[0].GetTensorDataAsSpan<float>();
            if (logits.Length != n * classes)
                throw new FacadeException($"'{Model.Path}': the logits have {logits.Length / Math.Max(1, n)} values per example but the model lists " +
                                          $"{classes} labels ({string.Join(", ", Model.LabelNames)}).");
            var grads = withGradient ? results[1].GetTensorDataAsSpan<float>() : ReadOnlySpan<float>.Empty;
            for (int i = 0; i < n; i++)
                consume(first + i, logits.Slice(i * classes, classes), withGradient ? grads.Slice(i * t * h, chunk[i].Length * h) : ReadOnlySpan<float>.Empty);
        }
        finally
        {
            foreach (var value in feeds) value.Dispose();
        }
    }

    /// <summary>Hands each sample of a span model's run its start logits then end logits (its own length) and gradient.</summary>
    void ConsumeSpans(List<EngineSample> chunk, int first, SampleConsumer consume, IDisposableReadOnlyCollection<OrtValue> results, int t, bool withGradient)
    {
        var start = results[0].GetTensorDataAsSpan<float>();
        var end = results[1].GetTensorDataAsSpan<float>();
        var grads = withGradient ? results[2].GetTensorDataAsSpan<float>() : ReadOnlySpan<float>.Empty;
        int h = Hidden;
        var logits = new float[2 * t];
        for (int i = 0; i < chunk.Count; i++)
        {
            int length = chunk[i].Length;
            start.Slice(i * t, length).CopyTo(logits);
            end.Slice(i * t, length).CopyTo(logits.AsSpan(length));
            consume(first + i, logits.AsSpan(0, 2 * length), withGradient ? grads.Slice(i * t * h, length * h) : ReadOnlySpan<float>.Empty);
        }
    }

    /// <summary>Integer (or 0/1 float) values in the element type an input declares.</summary>
    static OrtValue Integers(long[] values, TensorElementType type, long[] shape) => type switch
    {
        TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(values, shape),
        TensorElementType.Int32 => OrtValue.CreateTensorValueFromMemory(values.Select(v => (int)v).ToArray(), shape),
        TensorElementType.Float => OrtValue.CreateTensorValueFromMemory(values.Select(v => (float)v).ToArray(), shape),
        _ => throw new FacadeException($"An integer input is declared as {type}; FacadeOnnx feeds int64, int32 or float."),
    };

    /// <summary>Refuses a model with an input the engine cannot feed, before any run.</summary>
    static void CheckInputs(InferenceSession session, string path)
    {
        string[] known = [Contract.InputsEmbeds, Contract.Target, Contract.TargetSpan, Contract.InputIds, Contract.AttentionMask, Contract.TokenTypeIds, PositionIds];
        foreach (var (name, metadata) in session.InputMetadata)
        {
            if (!known.Contains(name))
                throw new FacadeException($"'{path}' declares the input '{name}', which FacadeOnnx cannot feed; it feeds {string.Join(", ", known)}.");
            if (name != Contract.InputsEmbeds && metadata.ElementDataType is not (TensorElementType.Int64 or TensorElementType.Int32 or TensorElementType.Float))
                throw new FacadeException($"'{path}': input '{name}' is {metadata.ElementDataType}; FacadeOnnx feeds it as int64, int32 or float.");
        }
    }

    /// <summary>The position-ids input some exports declare (fed 0, 1, 2, ... per row).</summary>
    const string PositionIds = "position_ids";

    public void Dispose()
    {
        _gradient.Dispose();
        _forward.Dispose();
    }
}
