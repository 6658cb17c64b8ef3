using System.Text.Json;
using FacadeOnnx.Graph;
using FacadeOnnx.Graph.Autodiff;
using FacadeOnnx.Graph.Building;
using FacadeOnnx.Graph.Import;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Text;
using Onnx;
using Contract = FacadeOnnx.Graph.Contract.GradientModelContract;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Runtime.Import;

/// <summary>What an import found and wrote, for the command's summary.</summary>
public sealed record ImportResult(string Output, EmbeddingLookup Lookup, string LogitsOutput, IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Labels, int MaxPositions, int Opset, string SourceSha256, bool LowerCase);

/// <summary>
/// `facade import` (docs/design.md 10): a foreign classifier becomes a gradient model of the contract. The word-embedding
/// lookup is found by structure and the graph cut there (its output becomes <c>inputs_embeds</c>); the logits output is
/// named <c>logits</c>; the per-example cross-entropy gradient is appended by the same reverse pass that
/// `facade export --gradients` uses; the contract's metadata is written with the source file's name and hash. The
/// result is loaded by the engine and run on one sentence before it is written, so a file that is written works.
/// </summary>
public static class ModelImport
{
    public static ImportResult ToFile(ImportRequest request, string output)
    {
        var (model, result) = Build(request);
        byte[] bytes = OnnxFile.ToBytes(model);
        Check(bytes, request, result);
        AtomicFile.WriteAllBytes(output, bytes);
        return result with { Output = Path.GetFullPath(output) };
    }

    /// <summary>The gradient model of the request, in memory, and what was found on the way.</summary>
    public static (ModelProto Model, ImportResult Result) Build(ImportRequest request)
    {
        byte[] source = GradientModelInfo.ReadBytes(request.OnnxPath);
        var model = OnnxFile.Parse(source, request.OnnxPath);
        int opset = (int)model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();
        var tokenizer = request.Tokenizer ?? (model.Get(Contract.Keys.Vocab) is string embedded
            ? WordPieceTokenizer.FromVocabText(embedded, $"embedded in '{request.OnnxPath}'", model.Get(Contract.Keys.LowerCase) != "false")
            : throw new FacadeException($"'{request.OnnxPath}' does not embed its vocabulary; give the model's tokenizer with --vocab vocab.txt or --tokenizer tokenizer.json."));
        string logits = LogitsOutput(model, request);
        // Fused and quantized operators are named before the search, which would otherwise only miss the lookup.
        DifferentiabilityCheck.ThrowIfUnsupported(new GraphBuilder(model), wrt: "", logits);
        var lookup = EmbeddingLookup.Find(model, request.IdsInput, tokenizer.VocabSize, request.Wrt);
        if (lookup.Rows != tokenizer.VocabSize)
            throw new FacadeException($"'{request.OnnxPath}': the word-embedding table '{lookup.Matrix}' has {lookup.Rows} rows but the vocabulary has " +
                                      $"{tokenizer.VocabSize} entries. Give the tokenizer files the model was exported with.");
        var labels = request.Labels ?? (model.Get(Contract.Keys.LabelNames) is string named ? JsonSerializer.Deserialize<string[]>(named) : null)
            ?? throw new FacadeException($"'{request.OnnxPath}' does not say its label names; give them in logit order with --labels (for example --labels negative,positive).");
        if (new GraphBuilder(model).Info(logits).Dims is { Length: 2 } dims && dims[1].IsValue && dims[1].Value != labels.Count)
            throw new FacadeException($"'{request.OnnxPath}': the logits '{logits}' have {dims[1].Value} classes but {labels.Count} labels were given ({string.Join(", ", labels)}).");
        if (labels.Count < 2) throw new FacadeException($"A classifier needs at least two labels; got {labels.Count}.");
        int maxPositions = request.MaxPositions ?? PositionRows(model, lookup) ?? throw new FacadeException(
            $"'{request.OnnxPath}': cannot tell how many positions the model reads (no position-embedding table of width {lookup.Hidden}); give --max-positions.");

        // Re-imports of our own forward exports keep what their metadata already says, unless the request overrides it.
        string task = request.Task ?? model.Get(Contract.Keys.Task) ?? "classification";
        int maxLength = Math.Min(request.MaxLength ?? (int.TryParse(model.Get(Contract.Keys.MaxLength), out int own) ? own : maxPositions), maxPositions);

        ReverseMode.Cut(model, lookup.Output, Contract.InputsEmbeds);
        if (logits != Contract.Logits) RenameOutput(model, logits, Contract.Logits);
        GradientExport.Apply(model, Contract.InputsEmbeds, new GradientObjective.CrossEntropy(Contract.Logits));

        model.Set(Contract.Keys.Format, Contract.FormatGradient);
        model.Set(Contract.Keys.Gradient, Contract.GradientDefinition);
        model.Set(Contract.Keys.Task, task);
        model.Set(Contract.Keys.LabelNames, JsonSerializer.Serialize(labels));
        model.Set(Contract.Keys.ModelKind, "imported");
        model.Set(Contract.Keys.VocabSha256, tokenizer.VocabHash);
        model.Set(Contract.Keys.Vocab, string.Join("\n", tokenizer.Vocabulary));
        model.Set(Contract.Keys.LowerCase, tokenizer.LowerCase ? "true" : "false");
        model.Set(Contract.Keys.TextPair, request.TextPair ? "true" : "false");
        model.Set(Contract.Keys.WordEmbedding, lookup.Matrix);
        model.Set(Contract.Keys.HiddenSize, lookup.Hidden.ToString());
        model.Set(Contract.Keys.HiddenGroups, JsonSerializer.Serialize(new[] { lookup.Hidden }));
        model.Set(Contract.Keys.MaxPositions, maxPositions.ToString());
        model.Set(Contract.Keys.MaxLength, maxLength.ToString());
        model.Set(Contract.Keys.SourceFile, Path.GetFileName(request.OnnxPath));
        model.Set(Contract.Keys.SourceSha256, Hashing.Sha256(source));
        model.Set(Contract.Keys.Producer, $"FacadeOnnx import {typeof(ModelImport).Assembly.GetName().Version}" +
                                          (request.Source is null ? "" : $" from {Path.GetFileName(request.Source.TrimEnd('/'))}"));
        // A re-imported export of ours loses its checkpoint provenance: what was imported is the file, named by its hash.
        foreach (var stale in model.MetadataProps.Where(p => p.Key is Contract.Keys.SourceCheckpoint or Contract.Keys.SourceWeightsSha256 or Contract.Keys.SourceManifest).ToList())
            model.MetadataProps.Remove(stale);
        var inputs = model.Graph.Input.Select(i => i.Name).Where(n => model.Graph.Initializer.All(t => t.Name != n)).ToList();
        return (model, new ImportResult("", lookup, logits, inputs, labels.ToArray(), maxPositions, opset, Hashing.Sha256(source), tokenizer.LowerCase));
    }

    /// <summary>The [batch, classes] logits: --logits, else the output named logits, else the one float output.</summary>
    static string LogitsOutput(ModelProto model, ImportRequest request)
    {
        var outputs = model.Graph.Output.Select(o => o.Name).ToList();
        if (request.Logits != null)
            return outputs.Contains(request.Logits) ? request.Logits
                : throw new FacadeException($"'{request.OnnxPath}' has no output '{request.Logits}' (--logits); its outputs: {string.Join(", ", outputs)}.");
        if (outputs.Contains(Contract.Logits)) return Contract.Logits;
        var floats = model.Graph.Output.Where(o => o.Type?.TensorType?.ElemType is (int)DataType.Float or (int)DataType.Undefined).Select(o => o.Name).ToList();
        return floats.Count == 1 ? floats[0]
            : throw new FacadeException($"'{request.OnnxPath}' has {floats.Count} float outputs ({string.Join(", ", floats)}); name the [batch, classes] logits with --logits.");
    }

    /// <summary>The rows of the position-embedding table: the largest other float [rows, hidden] table read by a Gather or Slice.</summary>
    static int? PositionRows(ModelProto model, EmbeddingLookup lookup)
    {
        var readers = model.Graph.Node.Where(n => n.OpType is "Gather" or "Slice").Select(n => n.Input[0]).ToHashSet();
        var rows = model.Graph.Initializer
            .Where(t => t.Name != lookup.Matrix && t.Dims.Count == 2 && t.Dims[1] == lookup.Hidden && t.Dims[0] >= 16 &&
                        t.DataType == (int)DataType.Float && readers.Contains(t.Name))
            .Select(t => (int)t.Dims[0]).ToList();
        return rows.Count == 0 ? null : rows.Max();
    }

    /// <summary>The graph output <paramref name="from"/> becomes <paramref name="to"/>, through an Identity node.</summary>
    static void RenameOutput(ModelProto model, string from, string to)
    {
        new GraphBuilder(model).Named(to, "Identity", [from]);
        model.Graph.Output.First(o => o.Name == from).Name = to;
    }

    /// <summary>Loads the result as the engine will and runs it on one short input (the engine refuses logits whose
    /// width differs from the labels, naming both).</summary>
    static void Check(byte[] bytes, ImportRequest request, ImportResult result)
    {
        using var engine = GradientEngine.FromBytes(bytes, request.OnnxPath, new EngineOptions { Log = TextWriter.Null });
        var input = engine.Encode("a check", request.TextPair ? "another check" : null);
        engine.Gradients([engine.Sample(input)], (_, _, gradient) =>
        {
            foreach (float v in gradient)
                if (!float.IsFinite(v))
                    throw new FacadeException($"'{request.OnnxPath}': the imported gradient is not finite on a test input.");
        });
    }
}
