using Onnx;

namespace FacadeOnnx.Graph;

/// <summary>Dead-code removal on ONNX graphs: nodes that reach no output, inputs nothing reads, outputs not wanted.</summary>
public static class GraphPruning
{
    /// <summary>Removes nodes none of whose outputs reach a graph output (dead code left by cutting or by rules).</summary>
    public static void Prune(ModelProto model)
    {
        var graph = model.Graph;
        var keep = NodesComputing(graph, graph.Output.Select(o => o.Name));
        graph.Node.Clear();
        graph.Node.AddRange(keep);
    }

    /// <summary>The nodes that <paramref name="tensors"/> depend on, in graph order.</summary>
    public static List<NodeProto> NodesComputing(GraphProto graph, IEnumerable<string> tensors)
    {
        var live = new HashSet<string>(tensors);
        var nodes = new List<NodeProto>();
        for (int i = graph.Node.Count - 1; i >= 0; i--)
        {
            var node = graph.Node[i];
            if (!node.Output.Any(live.Contains)) continue;
            nodes.Add(node);
            foreach (var input in node.Input) live.Add(input);
        }
        nodes.Reverse();
        return nodes;
    }

    /// <summary>Drops graph inputs that no node reads and no output passes through.</summary>
    public static void RemoveUnusedInputs(ModelProto model)
    {
        var graph = model.Graph;
        var read = graph.Node.SelectMany(n => n.Input).Concat(graph.Output.Select(o => o.Name)).ToHashSet();
        foreach (var unused in graph.Input.Where(i => !read.Contains(i.Name)).ToList()) graph.Input.Remove(unused);
    }

    /// <summary>
    /// Clears trailing optional outputs nobody reads (LayerNormalization's Mean/InvStdDev, Dropout's mask), so a graph cut
    /// back to its forward part is the plain forward graph again.
    /// </summary>
    public static void DropUnusedOptionalOutputs(ModelProto model)
    {
        var graph = model.Graph;
        var read = graph.Node.SelectMany(n => n.Input).Concat(graph.Output.Select(o => o.Name)).ToHashSet();
        foreach (var node in graph.Node.Where(n => n.OpType is "LayerNormalization" or "Dropout"))
            while (node.Output.Count > 1 && !read.Contains(node.Output[^1])) node.Output.RemoveAt(node.Output.Count - 1);
    }

    /// <summary>A copy of the model computing only <paramref name="outputs"/> (e.g. the forward part of a gradient model).</summary>
    public static ModelProto KeepOutputs(ModelProto model, params string[] outputs)
    {
        var copy = model.Clone();
        var missing = outputs.Where(o => copy.Graph.Output.All(x => x.Name != o)).ToList();
        if (missing.Count > 0)
            throw new FacadeException($"The model has no output {string.Join(", ", missing.Select(m => $"'{m}'"))}; outputs: {string.Join(", ", copy.Graph.Output.Select(o => o.Name))}.");
        foreach (var output in copy.Graph.Output.Where(o => !outputs.Contains(o.Name)).ToList()) copy.Graph.Output.Remove(output);
        Prune(copy);
        RemoveUnusedInputs(copy);
        DropUnusedOptionalOutputs(copy);
        return copy;
    }
}
