using System.Text.Json;
using FacadeOnnx.Graph;
using FacadeOnnx.Text;
using Onnx;
using Contract = FacadeOnnx.Graph.Contract.GradientModelContract;

namespace FacadeOnnx.Runtime.Engine;

/// <summary>
/// What a gradient model file says about itself (the contract's metadata) plus its word-embedding matrix, which the
/// engine needs for the lookup, SmoothGrad, leave-one-out and HotFlip. Refuses files that do not follow the contract
/// with a message saying what is missing and how to produce a proper one. Made from the file's bytes, read once: they
/// are hashed and parsed here, and the engine creates its gradient session from the same bytes.
/// </summary>
public sealed class GradientModelInfo
{
    public required string Path { get; init; }
    public required string Task { get; init; }
    public required string[] LabelNames { get; init; }
    public required string ModelKind { get; init; }
    public required string VocabHash { get; init; }
    public string? EmbeddedVocab { get; init; }
    public required int Hidden { get; init; }
    public required int[] HiddenGroups { get; init; }
    public required int MaxPositions { get; init; }
    public required int MaxLength { get; init; }
    public required float[] WordEmbeddings { get; init; }
    public required int VocabSize { get; init; }
    public required string Sha256 { get; init; }
    /// <summary>The parsed file (graph, weights and metadata), for analyses of the bare model such as the audit's
    /// structural forensics, so that nothing needs to read the file again. Treat it as read-only.</summary>
    public required ModelProto Graph { get; init; }
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
    public int NumLabels => LabelNames.Length;
    /// <summary>Whether the model's tokenizer lower-cases (facade.lower_case; absent means true, as for BERT uncased).</summary>
    public bool LowerCase => !Metadata.TryGetValue(Contract.Keys.LowerCase, out var v) || v != "false";
    /// <summary>Whether the model is a span (QA) model (facade.head = span): start and end logits instead of class logits.</summary>
    public bool IsSpan => Metadata.TryGetValue(Contract.Keys.Head, out var v) && v == Contract.HeadSpan;
    /// <summary>Span models: the longest answer, in pieces, the best-span search considers (facade.max_answer_length).</summary>
    public int MaxAnswerLength => Metadata.TryGetValue(Contract.Keys.MaxAnswerLength, out var v) && int.TryParse(v, out int n) ? n : SpanDecoding.DefaultMaxAnswerLength;
    /// <summary>Span models: how questions and contexts become windows and answers, as the model was trained.</summary>
    public QaSettings Qa => new()
    {
        MaxLength = MaxLength,
        Stride = Metadata.TryGetValue(Contract.Keys.QaStride, out var s) && int.TryParse(s, out int stride) ? stride : QaWindows.DefaultStride,
        MaxQueryLength = Metadata.TryGetValue(Contract.Keys.QaMaxQueryLength, out var q) && int.TryParse(q, out int query) ? query : QaWindows.DefaultMaxQueryLength,
        MaxAnswerLength = MaxAnswerLength,
    };
    /// <summary>Whether the model reads a pair of texts (facade.text_pair), when the file says so.</summary>
    public bool? TextPair => Metadata.TryGetValue(Contract.Keys.TextPair, out var v) ? v == "true" : null;

    /// <summary>Reads and checks a gradient model file.</summary>
    public static GradientModelInfo Read(string path) => FromBytes(ReadBytes(path), path);

    /// <summary>The bytes of a model file, read once; a missing or unreadable file is a <see cref="FacadeException"/>.</summary>
    internal static byte[] ReadBytes(string path)
    {
        if (!File.Exists(path)) throw new FacadeException($"ONNX file '{path}' does not exist.");
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FacadeException($"Cannot read the ONNX file '{path}': {e.Message}", e);
        }
    }

    /// <summary>Parses and checks the bytes of a gradient model file (<paramref name="path"/> names it in messages and
    /// in <see cref="Path"/>); <see cref="Sha256"/> is the hash of these bytes.</summary>
    public static GradientModelInfo FromBytes(byte[] bytes, string path)
    {
        var model = OnnxFile.Parse(bytes, path);
        var metadata = model.All();
        string Require(string key) => metadata.TryGetValue(key, out var v) ? v
            : throw new FacadeException($"'{path}' lacks the metadata '{key}' of the FacadeOnnx gradient model contract. " +
                                        "Export models with `facade export --model DIR --out FILE.onnx --gradients`.");
        var inputs = model.Graph.Input.Select(i => i.Name).ToHashSet();
        var outputs = model.Graph.Output.Select(o => o.Name).ToHashSet();
        if (!inputs.Contains(Contract.InputsEmbeds) || !outputs.Contains(Contract.InputsEmbedsGrad))
        {
            string what = inputs.Contains(Contract.InputIds) ? "a forward-only model (it maps input_ids to logits)" : "not a FacadeOnnx gradient model";
            throw new FacadeException(
                $"'{path}' is {what}; gradient methods need a gradient model with input inputs_embeds and output inputs_embeds_grad. " +
                "Make one with `facade import --onnx FILE.onnx --vocab vocab.txt --labels A,B --out FILE.grad.onnx` (any classifier), " +
                "or from our own checkpoints with `facade export --model CHECKPOINT_DIR --out FILE.onnx --gradients`.");
        }
        string embeddingName = Require(Contract.Keys.WordEmbedding);
        var matrix = model.Graph.Initializer.FirstOrDefault(t => t.Name == embeddingName)
            ?? throw new FacadeException($"'{path}' names '{embeddingName}' as its word-embedding matrix, but has no such initializer.");
        if (matrix.Dims.Count != 2)
            throw new FacadeException($"'{path}': the word-embedding initializer '{embeddingName}' has {matrix.Dims.Count} dimensions; expected [vocab, hidden].");
        int hidden = int.Parse(Require(Contract.Keys.HiddenSize));
        if (matrix.Dims[1] != hidden)
            throw new FacadeException($"'{path}': the word-embedding matrix is [{matrix.Dims[0]}, {matrix.Dims[1]}] but the metadata says hidden size {hidden}.");
        int maxPositions = int.Parse(Require(Contract.Keys.MaxPositions));
        var info = new GradientModelInfo
        {
            Path = System.IO.Path.GetFullPath(path),
            Task = Require(Contract.Keys.Task),
            LabelNames = JsonSerializer.Deserialize<string[]>(Require(Contract.Keys.LabelNames)) ?? [],
            ModelKind = metadata.GetValueOrDefault(Contract.Keys.ModelKind, "unknown"),
            VocabHash = Require(Contract.Keys.VocabSha256),
            EmbeddedVocab = metadata.GetValueOrDefault(Contract.Keys.Vocab),
            Hidden = hidden,
            HiddenGroups = metadata.TryGetValue(Contract.Keys.HiddenGroups, out var g) ? JsonSerializer.Deserialize<int[]>(g) ?? [hidden] : [hidden],
            MaxPositions = maxPositions,
            MaxLength = metadata.TryGetValue(Contract.Keys.MaxLength, out var ml) ? Math.Min(int.Parse(ml), maxPositions) : maxPositions,
            WordEmbeddings = Tensors.ToFloats(matrix),
            VocabSize = (int)matrix.Dims[0],
            Sha256 = Hashing.Sha256(bytes),
            Graph = model,
            Metadata = metadata.Where(kv => kv.Key != Contract.Keys.Vocab).ToDictionary(kv => kv.Key, kv => kv.Value),
        };
        if (info.LabelNames.Length < 2)
            throw new FacadeException($"'{path}': the metadata lists {info.LabelNames.Length} label names; expected at least two.");
        return info;
    }
}
