using FacadeOnnx.Graph;
using FacadeOnnx.Graph.Shapes;
using Onnx;
using Contract = FacadeOnnx.Graph.Contract.GradientModelContract;

namespace FacadeOnnx.Runtime.Engine;

/// <summary>
/// The sizes behind the engine's activation-memory estimate: transformer layers, attention heads and feed-forward
/// width. They are read from the forward graph (one attention Softmax per layer; the heads from the attention scores'
/// inferred shape or the constant shape that splits queries, keys and values into heads; the width from the pair of
/// feed-forward weights [hidden, width] and [width, hidden]) and checked against the gradient model contract's
/// metadata (facade.layers, facade.heads, facade.intermediate). Where both answer and disagree the graph wins, with a
/// note; where the graph cannot tell, the metadata answers; where neither can, the model is refused.
/// </summary>
public sealed record ModelDimensions(int Layers, int Heads, int Intermediate)
{
    /// <summary>The dimensions of <paramref name="forward"/> (the model's graph pruned to its logits).</summary>
    public static ModelDimensions Of(ModelProto forward, GradientModelInfo info, TextWriter log)
    {
        var softmaxes = AttentionSoftmaxes(forward.Graph);
        int? layers = softmaxes.Count > 0 ? softmaxes.Count : null;
        int? heads = HeadsFromScores(forward, softmaxes) ?? HeadsFromReshapes(forward.Graph, info.Hidden);
        int? intermediate = FeedForwardWidth(forward.Graph, info.Hidden);
        return new ModelDimensions(
            Decide(info, log, "layers", Contract.Keys.Layers, layers, "no attention Softmax feeding a MatMul"),
            Decide(info, log, "attention heads", Contract.Keys.Heads, heads, "neither the attention scores' shape nor a reshape into heads"),
            Decide(info, log, "feed-forward width", Contract.Keys.Intermediate, intermediate, "no pair of weights [hidden, width] and [width, hidden]"));
    }

    static int Decide(GradientModelInfo info, TextWriter log, string what, string key, int? fromGraph, string graphFinding)
    {
        int? declared = info.Metadata.TryGetValue(key, out var text) && int.TryParse(text, out int v) && v > 0 ? v : null;
        if (fromGraph is int found)
        {
            if (declared is int d && d != found)
                log.WriteLine($"note: '{info.Path}' declares {d} {what} ({key}) but its graph has {found}; the memory estimate uses {found}.");
            return found;
        }
        return declared ?? throw new FacadeException(
            $"'{info.Path}': cannot tell the model's {what} for the memory estimate: its metadata has no '{key}' and its graph shows " +
            $"{graphFinding}. Add the metadata '{key}' or export the model with `facade export --gradients`.");
    }

    static readonly HashSet<string> PassThrough = ["Cast", "Identity", "Dropout"];

    /// <summary>Softmax nodes whose output (through casts) is multiplied with the values: one per attention layer.</summary>
    public static List<NodeProto> AttentionSoftmaxes(GraphProto graph)
    {
        var consumers = graph.Node.SelectMany(n => n.Input.Where(i => i != "").Distinct().Select(i => (i, n)))
            .ToLookup(p => p.i, p => p.n);
        bool FeedsProduct(string tensor, int depth) => depth < 4 && consumers[tensor].Any(n =>
            n.OpType is "MatMul" or "Einsum" || PassThrough.Contains(n.OpType) && n.Output.Count > 0 && FeedsProduct(n.Output[0], depth + 1));
        return graph.Node.Where(n => n.OpType == "Softmax" && n.Output.Count > 0 && FeedsProduct(n.Output[0], 0)).ToList();
    }

    /// <summary>Dimension 1 of the attention scores [batch, heads, query, key], where shape inference knows it.</summary>
    internal static int? HeadsFromScores(ModelProto model, List<NodeProto> softmaxes)
    {
        if (softmaxes.Count == 0) return null;
        try
        {
            long opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();
            var shapes = new ShapeInference(model.Graph, (int)opset);
            var found = softmaxes.Select(s => shapes[s.Input[0]]?.Dims is { Length: 4 } d && d[1].IsValue && d[1].Value > 0 ? (int?)d[1].Value : null).ToList();
            return found.All(h => h != null) && found.Distinct().Count() == 1 ? found[0] : null;
        }
        catch (Exception)
        {
            return null; // shape inference is a best effort on foreign graphs: the reshapes or the metadata may still tell
        }
    }

    /// <summary>The heads of the constant shapes [batch, sequence, heads, head size] with heads x head size = hidden.</summary>
    internal static int? HeadsFromReshapes(GraphProto graph, int hidden)
    {
        var constants = graph.Initializer.Where(t => t.DataType == (int)TensorProto.Types.DataType.Int64 && t.Dims.Count == 1 && t.Dims[0] == 4)
            .ToDictionary(t => t.Name, Tensors.ToInt64s);
        foreach (var node in graph.Node.Where(n => n.OpType == "Constant" && n.Output.Count == 1))
            if (node.Attribute.FirstOrDefault(a => a.Name == "value")?.T is { DataType: (int)TensorProto.Types.DataType.Int64, Dims: [4] } t)
                constants[node.Output[0]] = Tensors.ToInt64s(t);
        var heads = graph.Node.Where(n => n.OpType == "Reshape" && n.Input.Count > 1 && constants.ContainsKey(n.Input[1]))
            .Select(n => constants[n.Input[1]])
            .Where(s => s[2] > 0 && s[3] > 0 && s[2] * s[3] == hidden)
            .Select(s => (int)s[2]).Distinct().ToList();
        return heads.Count == 1 ? heads[0] : null;
    }

    /// <summary>The width of the feed-forward block: the one size w != hidden with weights [hidden, w] and [w, hidden].</summary>
    internal static int? FeedForwardWidth(GraphProto graph, int hidden)
    {
        var initializers = graph.Initializer.Where(t => t.Dims.Count == 2).ToDictionary(t => t.Name);
        var shapes = new HashSet<(long In, long Out)>();
        foreach (var node in graph.Node.Where(n => n.OpType is "MatMul" or "Gemm" && n.Input.Count > 1))
        {
            if (!initializers.TryGetValue(node.Input[1], out var w)) continue;
            bool transposed = node.OpType == "Gemm" && node.GetInt("transB", 0) == 1;
            shapes.Add(transposed ? (w.Dims[1], w.Dims[0]) : (w.Dims[0], w.Dims[1]));
        }
        var widths = shapes.Where(s => s.In == hidden && s.Out != hidden && shapes.Contains((s.Out, hidden))).Select(s => (int)s.Out).Distinct().ToList();
        return widths.Count == 1 ? widths[0] : null;
    }
}
