using System.Text.Json;
using FacadeOnnx.Graph;
using FacadeOnnx.Graph.Autodiff;
using FacadeOnnx.Graph.Building;
using FacadeOnnx.Graph.Checking;
using FacadeOnnx.Graph.Contract;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Model;
using Onnx;
using static TorchSharp.torch;
using DataType = Onnx.TensorProto.Types.DataType;
using Contract = FacadeOnnx.Graph.Contract.GradientModelContract;

namespace FacadeOnnx.Training.Export;

/// <summary>
/// Writes a <see cref="BertClassifier"/> as an ONNX graph of standard operators (opset 21, or any of 11 to 21) from its
/// config and weights: the same computation as the TorchSharp forward in eval mode, LayerNorm per hidden group so a
/// merged model exports through the same code. The gradient model is this forward graph cut at the word-embedding
/// lookup output (inputs_embeds) with the cross-entropy gradient appended by <see cref="ReverseMode"/>. Below opset 17
/// LayerNormalization, and below 20 Gelu, are written out in elementary operators (<see cref="GraphBuilder"/>).
/// </summary>
public static class BertOnnxExporter
{
    public const string WordEmbeddingInitializer = "embeddings.word.weight";

    public static ModelProto Forward(BertClassifier model, CheckpointManifest manifest, string? sourceFolder = null,
        ExportOptions? options = null)
    {
        options ??= ExportOptions.Default;
        var config = model.Config;
        var weights = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        var onnx = GraphBuilder.NewModel($"{manifest.Task}_{manifest.Kind}_bert", options.Opset);
        var b = new GraphBuilder(onnx);

        string ids = b.Input(Contract.InputIds, DataType.Int64, Contract.BatchDim, Contract.SequenceDim);
        string mask = b.Input(Contract.AttentionMask, DataType.Int64, Contract.BatchDim, Contract.SequenceDim);
        string types = b.Input(Contract.TokenTypeIds, DataType.Int64, Contract.BatchDim, Contract.SequenceDim);

        string Weight(string name, bool transpose = false)
        {
            var t = weights.TryGetValue(name, out var w) ? w : throw new FacadeException($"Export: the model has no parameter '{name}'.");
            using var arranged = (transpose ? t.t() : t.alias()).contiguous().to_type(ScalarType.Float32);
            return b.Initializer(Tensors.FromFloats(name + (transpose ? ".T" : ""), arranged.data<float>().ToArray(), arranged.shape));
        }
        string Linear(string x, string name) => b.Add(b.MatMul(x, Weight(name + ".weight", transpose: true)), Weight(name + ".bias"));
        string Norm(string x, string name)
        {
            string gamma = Weight(name + ".weight"), beta = Weight(name + ".bias");
            float eps = (float)config.LayerNormEps;
            if (config.HiddenGroups.Length == 1)
                return b.LayerNormalization(x, gamma, beta, eps);
            long[] groups = config.HiddenGroups.Select(g => (long)g).ToArray();
            var parts = b.Split(x, -1, groups);
            var gammas = b.Split(gamma, 0, groups);
            var betas = b.Split(beta, 0, groups);
            var normed = parts.Select((p, i) => b.LayerNormalization(p, gammas[i], betas[i], eps)).ToArray();
            return b.Concat(-1, normed);
        }

        // x times the named projections of one layer side by side, split back into one output per projection.
        string[] Projection(string prefix, string x, string[] names, double queryScale)
        {
            var (weight, bias) = FusedProjection(weights, prefix, names, queryScale);
            long width = config.Hidden * (long)names.Length;
            string tag = prefix + string.Concat(names.Select(n => n[0]));
            string product = b.Add(b.MatMul(x, b.Initializer(tag + ".weight.T", weight, config.Hidden, width)), b.Initializer(tag + ".bias", bias, width));
            return names.Length == 1 ? [product] : b.Split(product, -1, names.Select(_ => (long)config.Hidden).ToArray());
        }

        // Embeddings: the word lookup output is named inputs_embeds, where the gradient model is cut.
        string words = b.Named(Contract.InputsEmbeds, "Gather", [Weight(WordEmbeddingInitializer), ids], Attributes.Int("axis", 0));
        string length = b.ShapeSlice(mask, 1, 2);
        string positions = b.Op("Slice", [Weight("embeddings.position.weight"), b.Ints(0), length, b.Ints(0)]);
        string typeEmbeddings = b.Gather(Weight("embeddings.token_type.weight"), types);
        string hidden = Norm(b.Add(b.Add(words, positions), typeEmbeddings), "embeddings.norm");

        // Additive attention mask [batch, 1, 1, sequence]: 0 for tokens, MaskValue for padding.
        string maskFloat = b.Cast(mask, DataType.Float);
        string maskBias = b.Unsqueeze(b.Mul(b.Sub(b.Scalar(1, DataType.Float), maskFloat), b.Scalar(BertClassifier.MaskValue, DataType.Float)), 1, 2);

        long heads = config.Heads, headSize = config.HeadSize;
        string headShape = b.Ints(0, 0, heads, headSize);
        string mergedShape = b.Ints(0, 0, config.Hidden);
        for (int i = 0; i < config.Layers; i++)
        {
            string p = $"layers.{i}.";
            // Queries come from the rows that are read on: every row, or only [CLS] in a pruned last layer, where
            // keys and values still see every position. Where queries, keys and values share their input they are
            // one [H, 3H] product (one larger matrix multiply forward, and one instead of three backward). The
            // attention scale 1/sqrt(head size) is folded into the query weights and bias.
            bool pruned = options.PruneLastLayer && config.Head == ModelHead.Classification && i == config.Layers - 1;
            string queryRows = pruned ? b.Op("Slice", [hidden, b.Ints(0), b.Ints(1), b.Ints(1)]) : hidden;
            double scale = 1 / Math.Sqrt(headSize);
            string[] qkv = pruned
                ? [.. Projection(p, queryRows, ["query"], scale), .. Projection(p, hidden, ["key", "value"], scale)]
                : Projection(p, hidden, ["query", "key", "value"], scale);
            string q = b.Transpose(b.Reshape(qkv[0], headShape), 0, 2, 1, 3);
            string kT = b.Transpose(b.Reshape(qkv[1], headShape), 0, 2, 3, 1);
            string v = b.Transpose(b.Reshape(qkv[2], headShape), 0, 2, 1, 3);
            string scores = b.Add(b.MatMul(q, kT), maskBias);
            string context = b.Reshape(b.Transpose(b.MatMul(b.Softmax(scores, -1), v), 0, 2, 1, 3), mergedShape);
            string attended = Norm(b.Add(queryRows, Linear(context, p + "attention_output")), p + "attention_norm");
            string expanded = b.Gelu(Linear(attended, p + "intermediate"));
            hidden = Norm(b.Add(attended, Linear(expanded, p + "output")), p + "output_norm");
        }

        // The scaling merge's factor exp(w·h + b) [batch, 1], h what the head reads at [CLS] (docs/method.md §7.7).
        string? Factor(string atCls) => config.LogitScale ? b.Exp(Linear(atCls, "logit_scale")) : null;
        if (config.Head == ModelHead.Span)
        {
            string? factor = Factor(b.Gather(hidden, b.Scalar(0, DataType.Int64), axis: 1));
            SpanHead(b, hidden, Weight("classifier.weight", transpose: true), Weight("classifier.bias"), types, mask, factor);
        }
        else
        {
            string cls = b.Gather(hidden, b.Scalar(0, DataType.Int64), axis: 1);
            string pooled = b.Tanh(Linear(cls, "pooler"));
            string classifierWeight = Weight("classifier.weight", transpose: true), classifierBias = Weight("classifier.bias");
            if (Factor(pooled) is { } factor) b.Named(Contract.Logits, "Mul", [b.Add(b.MatMul(pooled, classifierWeight), classifierBias), factor]);
            else b.Named(Contract.Logits, "Add", [b.MatMul(pooled, classifierWeight), classifierBias]);
            b.Output(Contract.Logits, Contract.BatchDim, (long)config.NumLabels);
        }

        WriteMetadata(onnx, model, manifest, sourceFolder, Contract.FormatForward);
        ModelChecker.ThrowIfInvalid(onnx);
        return onnx;
    }

    /// <summary>
    /// The span head (docs/method.md §2.2): start and end logits at every position, with −10000 added outside the
    /// context. The context is read from the inputs as the pieces of the second segment (token type 1) except the last
    /// real piece, the closing [SEP]: exactly the positions <see cref="Model.SpanHead.ContextMask"/> marks.
    /// </summary>
    /// <paramref name="factor"/>: the scaling merge's [batch, 1] factor the logits are multiplied by before the mask, or null.
    static void SpanHead(GraphBuilder b, string hidden, string weightT, string bias, string types, string mask, string? factor)
    {
        string length = b.ReduceSum(mask, [1], keepDims: true);
        string beforeLast = b.Op("Less", [b.Unsqueeze(b.Positions(mask, 1), 0), b.Sub(length, b.Scalar(1, DataType.Int64))]);
        string context = b.Op("And", [b.Op("And", [b.Equal(types, b.Scalar(1, DataType.Int64)), b.Cast(mask, DataType.Bool)]), beforeLast]);
        string outside = b.Mul(b.Sub(b.Scalar(1, DataType.Float), b.Cast(context, DataType.Float)), b.Scalar(BertClassifier.MaskValue, DataType.Float));
        string logits = b.Add(b.MatMul(hidden, weightT), bias);
        if (factor != null) logits = b.Mul(logits, b.Unsqueeze(factor, 1));
        b.Named(Contract.SpanLogits, "Add", [logits, b.Unsqueeze(outside, -1)]);
        foreach (var (name, k) in new[] { (Contract.StartLogits, 0), (Contract.EndLogits, 1) })
        {
            b.Named(name, "Identity", [b.Squeeze(b.Op("Slice", [Contract.SpanLogits, b.Ints(k), b.Ints(k + 1), b.Ints(2)]), 2)]);
            b.Output(name, Contract.BatchDim, Contract.SequenceDim);
        }
    }

    /// <summary>[W1^T | W2^T | ...] ([in, n * out]) and [b1, b2, ...] of one layer's named projections (query, key,
    /// value), the query's scaled by <paramref name="queryScale"/>.</summary>
    static (float[] Weight, float[] Bias) FusedProjection(Dictionary<string, Tensor> weights, string prefix, string[] names, double queryScale)
    {
        using var scope = NewDisposeScope();
        double Scale(string name) => name == "query" ? queryScale : 1;
        var w = cat(names.Select(n => weights[prefix + n + ".weight"].Times(Scale(n))).ToArray(), 0).t().contiguous().to_type(ScalarType.Float32);
        var bias = cat(names.Select(n => weights[prefix + n + ".bias"].Times(Scale(n))).ToArray(), 0).to_type(ScalarType.Float32);
        return (w.data<float>().ToArray(), bias.data<float>().ToArray());
    }

    /// <summary>The gradient model of the contract: inputs_embeds, attention_mask, token_type_ids, target -> logits, inputs_embeds_grad.</summary>
    public static ModelProto Gradient(BertClassifier model, CheckpointManifest manifest, string? sourceFolder = null,
        ExportOptions? options = null)
    {
        var onnx = Forward(model, manifest, sourceFolder, options);
        ReverseMode.Cut(onnx, Contract.InputsEmbeds);
        bool span = model.Config.Head == ModelHead.Span;
        if (span)
            ReverseMode.AppendSpanGradient(onnx, Contract.InputsEmbeds, Contract.SpanLogits, FineTuning.FineTuner.QaSettingsOf(manifest).MaxAnswerLength,
                Contract.TargetSpan, Contract.InputsEmbedsGrad);
        else
            ReverseMode.AppendCrossEntropyGradient(onnx, Contract.InputsEmbeds, Contract.Logits, Contract.Target, Contract.InputsEmbedsGrad);
        onnx.Set(Contract.Keys.Format, Contract.FormatGradient);
        onnx.Set(Contract.Keys.Gradient, span ? Contract.SpanGradientDefinition : Contract.GradientDefinition);
        return onnx;
    }

    static void WriteMetadata(ModelProto onnx, BertClassifier model, CheckpointManifest manifest, string? sourceFolder, string format)
    {
        var tokenizer = WordPieceTokenizer.MiniLm();
        if (tokenizer.VocabHash != manifest.VocabHash)
            throw new FacadeException($"The checkpoint was trained with vocabulary {manifest.VocabHash[..12]}…, not the MiniLM vocabulary this exporter embeds.");
        onnx.Set(Contract.Keys.Format, format);
        onnx.Set(Contract.Keys.Task, manifest.Task);
        onnx.Set(Contract.Keys.LabelNames, JsonSerializer.Serialize(manifest.LabelNames));
        onnx.Set(Contract.Keys.ModelKind, manifest.Kind);
        onnx.Set(Contract.Keys.VocabSha256, tokenizer.VocabHash);
        onnx.Set(Contract.Keys.Vocab, string.Join("\n", tokenizer.Vocabulary));
        onnx.Set(Contract.Keys.WordEmbedding, WordEmbeddingInitializer);
        onnx.Set(Contract.Keys.HiddenSize, model.Config.Hidden.ToString());
        onnx.Set(Contract.Keys.HiddenGroups, JsonSerializer.Serialize(model.Config.HiddenGroups));
        onnx.Set(Contract.Keys.MaxPositions, model.Config.MaxPositions.ToString());
        onnx.Set(Contract.Keys.Layers, model.Config.Layers.ToString());
        onnx.Set(Contract.Keys.Heads, model.Config.Heads.ToString());
        onnx.Set(Contract.Keys.Intermediate, model.Config.Intermediate.ToString());
        onnx.Set(Contract.Keys.MaxLength, manifest.MaxLength.ToString());
        if (model.Config.Head == ModelHead.Span)
        {
            var qa = FineTuning.FineTuner.QaSettingsOf(manifest);
            onnx.Set(Contract.Keys.Head, Contract.HeadSpan);
            onnx.Set(Contract.Keys.TextPair, "true");
            onnx.Set(Contract.Keys.MaxAnswerLength, qa.MaxAnswerLength.ToString());
            onnx.Set(Contract.Keys.QaStride, qa.Stride.ToString());
            onnx.Set(Contract.Keys.QaMaxQueryLength, qa.MaxQueryLength.ToString());
        }
        onnx.Set(Contract.Keys.Producer, $"FacadeOnnx exporter {typeof(BertOnnxExporter).Assembly.GetName().Version}");
        // The folder's name and the weights' hash identify the checkpoint; a full path would leak the builder's file system.
        if (sourceFolder != null) onnx.Set(Contract.Keys.SourceCheckpoint, Path.GetFileName(Path.GetFullPath(sourceFolder).TrimEnd(Path.DirectorySeparatorChar)));
        if (manifest.WeightsSha256 != null) onnx.Set(Contract.Keys.SourceWeightsSha256, manifest.WeightsSha256);
        onnx.Set(Contract.Keys.SourceManifest, manifest.ToJson());
    }
}
