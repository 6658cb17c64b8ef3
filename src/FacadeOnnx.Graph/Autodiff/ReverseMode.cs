using FacadeOnnx.Graph.Building;
using FacadeOnnx.Graph;
using FacadeOnnx.Graph.Checking;
using FacadeOnnx.Graph.Shapes;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Graph.Autodiff;

/// <summary>What a gradient pass added: the new inputs and the gradient output.</summary>
public sealed record GradientGraph(string WithRespectTo, string GradientOutput, IReadOnlyList<string> AddedInputs);

/// <summary>
/// Reverse-mode autodiff over an ONNX graph: cut the graph at a tensor (it becomes an input), seed a scalar objective,
/// walk the nodes backwards applying <see cref="VjpRules"/>, and append the gradient as a new graph output. Only
/// standard operators are emitted, so stock ONNX Runtime runs the result, in the forms of the model's own opset (11 to 21).
/// </summary>
public static class ReverseMode
{
    /// <summary>
    /// Makes <paramref name="tensor"/> a graph input named <paramref name="inputName"/>: its consumers read the input, and
    /// nodes that only fed it are removed. Typically the output of the word-embedding Gather.
    /// </summary>
    public static void Cut(ModelProto model, string tensor, string? inputName = null)
    {
        inputName ??= tensor;
        var graph = model.Graph;
        var producer = graph.Node.FirstOrDefault(n => n.Output.Contains(tensor));
        if (producer == null)
        {
            if (graph.Input.Any(i => i.Name == tensor) && inputName == tensor) return;
            throw new FacadeException($"Cannot cut at '{tensor}': no node of graph '{graph.Name}' produces it. " +
                                      $"Tensors produced by Gather nodes: {string.Join(", ", graph.Node.Where(n => n.OpType == "Gather").SelectMany(n => n.Output).Take(10))}.");
        }
        var info = new GraphBuilder(model).Info(tensor);
        if (!info.IsFloat)
            throw new FacadeException($"Cannot cut at '{tensor}': it holds {info.ElementType} values; gradients need a float tensor.");
        for (int i = 0; i < producer.Output.Count; i++)
            if (producer.Output[i] == tensor) producer.Output[i] = tensor + "/cut";
        foreach (var node in graph.Node)
            for (int i = 0; i < node.Input.Count; i++)
                if (node.Input[i] == tensor) node.Input[i] = inputName;
        foreach (var output in graph.Output)
            if (output.Name == tensor) output.Name = inputName;
        var dims = (info.Dims ?? throw new FacadeException($"Cannot cut at '{tensor}': its rank cannot be inferred."))
            .Select((d, i) => d.IsValue ? (object)d.Value : d.Symbol ?? $"{inputName}_dim{i}").ToArray();
        graph.Input.Add(GraphBuilder.ValueInfo(inputName, info.ElementType, dims));
        GraphPruning.Prune(model);
        // Inputs that only fed the removed lookup (input_ids in our own models) are no longer needed.
        GraphPruning.RemoveUnusedInputs(model);
    }

    /// <summary>
    /// Appends the gradient of each example's own cross-entropy at <paramref name="targetInput"/> (int64 [batch];
    /// -1 means the model's own argmax) with respect to <paramref name="wrt"/>. The loss is summed over the batch, so a
    /// row's gradient never depends on the other rows.
    /// </summary>
    public static GradientGraph AppendCrossEntropyGradient(ModelProto model, string wrt, string logits,
        string targetInput = "target", string? gradientName = null)
    {
        var b = BackwardBuilder(model, wrt, logits);
        if (b.Info(logits).Rank is int r && r != 2)
            throw new FacadeException($"Logits '{logits}' have rank {r}; the cross-entropy objective expects [batch, classes].");
        b.Input(targetInput, DataType.Int64, "batch");
        string own = b.Op("ArgMax", [logits], Attributes.Int("axis", -1), Attributes.Int("keepdims", 0));
        string target = b.Where(b.Op("Less", [targetInput, b.Scalar(0, DataType.Int64)]), own, targetInput);
        string depth = b.ShapeSlice(logits, -1);
        var onOff = b.TypeOf(logits) == DataType.Double
            ? Tensors.FromDoubles(b.Fresh("one_hot_values"), [0.0, 1.0], 2)
            : Tensors.FromFloats(b.Fresh("one_hot_values"), [0f, 1f], 2);
        string values = b.Initializer(onOff);
        string oneHot = b.Op("OneHot", [target, depth, values], Attributes.Int("axis", -1));
        string seed = b.Sub(b.Softmax(logits, -1), oneHot);
        return Backward(b, wrt, logits, seed, gradientName ?? wrt + "_grad", [targetInput]);
    }

    /// <summary>
    /// Appends the gradient of each example's span loss (CE(start) + CE(end)) / 2 with respect to <paramref name="wrt"/>
    /// (docs/design.md §5): <paramref name="spanLogits"/> [batch, sequence, 2] holds the start and end logits, already
    /// masked to the context; the added input <paramref name="targetInput"/> [batch, 2] gives each row's span, and −1
    /// stands for the model's own best span, found as the engine decodes it: the largest start + end logit over
    /// start ≤ end &lt; start + <paramref name="maxAnswerLength"/>, ties to the smaller start, then the smaller end.
    /// </summary>
    public static GradientGraph AppendSpanGradient(ModelProto model, string wrt, string spanLogits, int maxAnswerLength,
        string targetInput, string? gradientName = null)
    {
        if (maxAnswerLength < 1) throw new FacadeException($"The longest answer must be at least one piece, not {maxAnswerLength}.");
        var b = BackwardBuilder(model, wrt, spanLogits);
        if (b.Info(spanLogits).Rank is int r && r != 3)
            throw new FacadeException($"Span logits '{spanLogits}' have rank {r}; the span objective expects [batch, sequence, 2].");
        b.Input(targetInput, DataType.Int64, "batch", 2L);
        string Part(int k) => b.Squeeze(b.Op("Slice", [spanLogits, b.Ints(k), b.Ints(k + 1), b.Ints(2)]), 2);
        string start = Part(0), end = Part(1);

        // Own best span: scores[b, i, j] = start[b, i] + end[b, j] where 0 ≤ j − i < maxAnswerLength, else −1e9;
        // ArgMax over the flattened [i, j] grid returns the first maximum, i.e. the smaller start, then the smaller end.
        string positions = b.Positions(start, 1);
        string offset = b.Sub(b.Unsqueeze(positions, 0), b.Unsqueeze(positions, 1));
        string allowed = b.Op("And", [b.Op("Not", [b.Op("Less", [offset, b.Scalar(0, DataType.Int64)])]),
            b.Op("Less", [offset, b.Scalar(maxAnswerLength, DataType.Int64)])]);
        string band = b.Where(allowed, b.Scalar(0, spanLogits), b.Scalar(-1e9, spanLogits));
        string scores = b.Add(b.Add(b.Unsqueeze(start, 2), b.Unsqueeze(end, 1)), band);
        string best = b.Op("ArgMax", [b.Reshape(scores, b.Ints(0, -1))], Attributes.Int("axis", 1), Attributes.Int("keepdims", 0));
        string length = b.Reshape(b.ShapeSlice(start, 1, 2), b.Ints());
        string ownStart = b.Div(best, length), ownEnd = b.Sub(best, b.Mul(ownStart, length));

        string Chosen(int k, string own)
        {
            string given = b.Gather(targetInput, b.Scalar(k, DataType.Int64), axis: 1);
            return b.Where(b.Op("Less", [given, b.Scalar(0, DataType.Int64)]), own, given);
        }
        var onOff = b.TypeOf(spanLogits) == DataType.Double
            ? Tensors.FromDoubles(b.Fresh("one_hot_values"), [0.0, 1.0], 2)
            : Tensors.FromFloats(b.Fresh("one_hot_values"), [0f, 1f], 2);
        string values = b.Initializer(onOff);
        string half = b.Scalar(0.5, spanLogits);
        string Seed(string logits, string target) =>
            b.Unsqueeze(b.Mul(b.Sub(b.Softmax(logits, -1), b.Op("OneHot", [target, b.ShapeSlice(logits, 1, 2), values], Attributes.Int("axis", -1))), half), -1);
        string seed = b.Concat(-1, Seed(start, Chosen(0, ownStart)), Seed(end, Chosen(1, ownEnd)));
        return Backward(b, wrt, spanLogits, seed, gradientName ?? wrt + "_grad", [targetInput]);
    }

    /// <summary>
    /// Appends the vector-Jacobian product of <paramref name="output"/> with respect to <paramref name="wrt"/>, given a
    /// cotangent input named <c>{output}_cotangent</c> shaped like the output.
    /// </summary>
    public static GradientGraph AppendVjp(ModelProto model, string wrt, string output, string? gradientName = null)
    {
        var b = BackwardBuilder(model, wrt, output);
        var info = b.Info(output);
        if (!info.IsFloat) throw new FacadeException($"Output '{output}' holds {info.ElementType} values; a VJP needs a float output.");
        string cotangent = output + "_cotangent";
        var declared = model.Graph.Output.FirstOrDefault(o => o.Name == output)?.Type?.TensorType?.Shape;
        object[] dims = declared != null && declared.Dim.Count == info.Rank
            ? declared.Dim.Select((d, i) => d.DimParam is { Length: > 0 } p ? p : d.DimValue > 0 ? (object)d.DimValue : $"{cotangent}_dim{i}").ToArray()
            : (info.Dims ?? throw new FacadeException($"The rank of '{output}' cannot be inferred."))
                .Select((d, i) => d.IsValue ? (object)d.Value : d.Symbol ?? $"{cotangent}_dim{i}").ToArray();
        b.Input(cotangent, info.ElementType, dims);
        return Backward(b, wrt, output, cotangent, gradientName ?? wrt + "_grad", [cotangent]);
    }

    /// <summary>A builder for the backward nodes, once the opset, both tensors and every operator between them are known to be supported.</summary>
    static GraphBuilder BackwardBuilder(ModelProto model, string wrt, string objective)
    {
        OpsetForms.RequireSupported(OpsetForms.Of(model), $"Graph '{model.Graph.Name}'");
        var b = new GraphBuilder(model) { Prefix = "grad/" };
        RequireTensor(b, wrt);
        RequireTensor(b, objective);
        DifferentiabilityCheck.ThrowIfUnsupported(b, wrt, objective);
        return b;
    }

    static void RequireTensor(GraphBuilder b, string name)
    {
        if (b.Shapes[name] == null)
            throw new FacadeException($"Tensor '{name}' does not exist in graph '{b.Graph.Name}'. Graph inputs: " +
                                      string.Join(", ", b.Graph.Input.Select(i => i.Name)) + "; outputs: " +
                                      string.Join(", ", b.Graph.Output.Select(o => o.Name)) + ".");
    }

    static GradientGraph Backward(GraphBuilder b, string wrt, string objective, string seed, string gradientName, string[] added)
    {
        var forward = b.Graph.Node.TakeWhile(n => !n.Name.StartsWith("grad/")).ToList();
        var needsGrad = RequiresGrad(b.Shapes, forward, wrt);
        if (!needsGrad.Contains(objective))
            throw new FacadeException($"'{objective}' does not depend on '{wrt}' through differentiable operators; there is no gradient to compute.");

        var pending = new Dictionary<string, List<string>> { [objective] = [seed] };
        for (int k = forward.Count - 1; k >= 0; k--)
        {
            var node = forward[k];
            if (!node.Output.Any(o => pending.ContainsKey(o) && needsGrad.Contains(o))) continue;
            var rule = VjpRules.For(node, wrt, objective);
            var outputGrads = node.Output.Select(o => pending.Remove(o, out var parts) ? b.Sum(parts) : null).ToArray();
            var inputGrads = rule(node, outputGrads, b);
            for (int i = 0; i < node.Input.Count && i < inputGrads.Length; i++)
            {
                string input = node.Input[i];
                if (input == "" || !needsGrad.Contains(input) || inputGrads[i] is not { } emit) continue;
                if (!pending.TryGetValue(input, out var list)) pending[input] = list = [];
                list.Add(emit());
            }
        }
        if (!pending.TryGetValue(wrt, out var final))
            throw new FacadeException($"No gradient reached '{wrt}' from '{objective}'.");
        b.Prefix = "";
        string gradient = b.Named(gradientName, "Identity", [b.Sum(final)]);
        b.Output(gradient, b.Graph.Input.First(i => i.Name == wrt).Type.TensorType.Shape.Dim
            .Select(d => d.DimParam is { Length: > 0 } p ? (object)p : d.DimValue).ToArray());
        GraphPruning.Prune(b.Model);
        ModelChecker.ThrowIfInvalid(b.Model);
        return new GradientGraph(wrt, gradient, added);
    }

    /// <summary>Tensors on a differentiable path from <paramref name="wrt"/>: float outputs of nodes with such an input.</summary>
    internal static HashSet<string> RequiresGrad(ShapeInference shapes, IEnumerable<NodeProto> nodes, string wrt)
    {
        var set = new HashSet<string> { wrt };
        foreach (var node in nodes)
        {
            if (VjpRules.NonDifferentiable.Contains(node.OpType)) continue;
            if (!node.Input.Any(set.Contains)) continue;
            foreach (var o in node.Output)
                if (o != "" && shapes[o] is { } info && (info.IsFloat || info.ElementType == DataType.Undefined))
                    set.Add(o);
        }
        return set;
    }
}
