using FacadeOnnx.Graph.Shapes;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Graph.Building;

/// <summary>
/// Emits standard ai.onnx nodes into a graph with fresh tensor names, keeping static shape information up to date.
/// Used both to build models from scratch and to append backward passes to existing graphs. Helpers emit the form of
/// the model's opset (11 to 21, <see cref="OpsetForms"/>): axes as attributes or inputs, LayerNormalization and Gelu
/// written out where the opset lacks them, so appended nodes are valid in the graph they join.
/// </summary>
public sealed class GraphBuilder
{
    public const int DefaultOpset = OpsetForms.Newest;

    readonly HashSet<string> _names = new();
    readonly HashSet<string> _reserved = new();   // names handed out by Fresh and not yet defined
    readonly Dictionary<string, string> _constants = new();
    int _counter;

    public ModelProto Model { get; }
    public GraphProto Graph => Model.Graph;
    public int Opset { get; }
    public ShapeInference Shapes { get; }

    /// <summary>Prefix for generated names (e.g. "grad/"), so appended nodes are recognisable.</summary>
    public string Prefix { get; set; } = "";

    public GraphBuilder(ModelProto model)
    {
        Model = model;
        Opset = OpsetForms.Of(model) is > 0 and var opset ? opset
            : throw new FacadeException("The model imports no ai.onnx opset; expected an opset import for the default domain.");
        foreach (var i in Graph.Input) _names.Add(i.Name);
        foreach (var i in Graph.Initializer) _names.Add(i.Name);
        foreach (var n in Graph.Node)
        {
            if (!string.IsNullOrEmpty(n.Name)) _names.Add(n.Name);
            foreach (var o in n.Output) _names.Add(o);
        }
        Shapes = new ShapeInference(Graph, Opset);
    }

    /// <summary>A new, empty model: opset 21 unless told (11 to 21), the IR version of that opset, our producer name.</summary>
    public static ModelProto NewModel(string graphName, int opset = DefaultOpset)
    {
        if (!OpsetForms.IsSupported(opset))
            throw new FacadeException($"Cannot build model '{graphName}' at ai.onnx opset {opset}: the builder writes opsets {OpsetForms.Oldest} to {OpsetForms.Newest}.");
        var model = new ModelProto
        {
            IrVersion = OpsetForms.IrVersionFor(opset),
            ProducerName = "FacadeOnnx",
            ProducerVersion = typeof(GraphBuilder).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = new GraphProto { Name = graphName },
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    public TensorInfo Info(string name) =>
        Shapes[name] ?? throw new FacadeException($"Tensor '{name}' is not known in graph '{Graph.Name}'.");

    public DataType TypeOf(string name) => Info(name).ElementType;

    public int RankOf(string name, NodeProto? at = null) =>
        Info(name).Rank ?? throw new FacadeException(
            $"The rank of tensor '{name}'{(at == null ? "" : " at " + at.Describe())} cannot be inferred statically; " +
            "the autodiff needs it. Add shape information (value_info) for it to the model.");

    public string Fresh(string hint)
    {
        string baseName = Prefix + hint;
        string name = baseName;
        while (!_names.Add(name)) name = $"{baseName}_{++_counter}";
        _reserved.Add(name);
        return name;
    }

    // ---- graph structure -------------------------------------------------------------------------------------

    public string Input(string name, DataType type, params object[] dims)
    {
        if (!_names.Add(name) && Graph.Input.Any(i => i.Name == name))
            throw new FacadeException($"Graph input '{name}' already exists.");
        var vi = ValueInfo(name, type, dims);
        Graph.Input.Add(vi);
        Shapes.Set(name, new TensorInfo(type, dims.Select(ToDim).ToArray()));
        return name;
    }

    public void Output(string name, params object[] dims)
    {
        var info = Info(name);
        Graph.Output.Add(ValueInfo(name, info.ElementType, dims.Length > 0 ? dims : (info.Dims ?? []).Select(d => (object)(d.Symbol ?? (object)d.Value)).ToArray()));
    }

    public static ValueInfoProto ValueInfo(string name, DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            var dim = new TensorShapeProto.Types.Dimension();
            if (d is string s) dim.DimParam = s;
            else dim.DimValue = Convert.ToInt64(d);
            shape.Dim.Add(dim);
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    static Dim ToDim(object d) => d is string s ? Dim.Named(s) : Dim.Of(Convert.ToInt64(d));

    public string Initializer(TensorProto tensor)
    {
        if (!_names.Add(tensor.Name) && !_reserved.Remove(tensor.Name))
            throw new FacadeException($"Initializer name '{tensor.Name}' is already used in graph '{Graph.Name}'.");
        Graph.Initializer.Add(tensor);
        Shapes.Set(tensor.Name, ShapeInference.FromTensor(tensor));
        return tensor.Name;
    }

    public string Initializer(string hint, ReadOnlySpan<float> values, params long[] dims) =>
        Initializer(Tensors.FromFloats(Fresh(hint), values, dims));

    /// <summary>Emits one node and returns its output names.</summary>
    public string[] Node(string op, IReadOnlyList<string> inputs, int outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = Fresh(op) };
        node.Input.AddRange(inputs);
        for (int i = 0; i < outputs; i++) node.Output.Add(Fresh(op.ToLowerInvariant() + "_out"));
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        Shapes.Infer(node);
        return node.Output.ToArray();
    }

    public string Op(string op, IReadOnlyList<string> inputs, params AttributeProto[] attributes) =>
        Node(op, inputs, 1, attributes)[0];

    /// <summary>Emits one node whose single output gets the given name (graph outputs, cut points).</summary>
    public string Named(string outputName, string op, IReadOnlyList<string> inputs, params AttributeProto[] attributes)
    {
        if (!_names.Add(outputName)) throw new FacadeException($"Tensor name '{outputName}' is already used.");
        var node = new NodeProto { OpType = op, Name = Fresh(op) };
        node.Input.AddRange(inputs);
        node.Output.Add(outputName);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        Shapes.Infer(node);
        return outputName;
    }

    // ---- constants -------------------------------------------------------------------------------------------

    /// <summary>A scalar constant with the element type of <paramref name="like"/> (float32 or float64 graphs).</summary>
    public string Scalar(double value, string like) => Scalar(value, TypeOf(like));

    public string Scalar(double value, DataType type)
    {
        string key = $"{type}:{value:R}";
        if (_constants.TryGetValue(key, out var name)) return name;
        var tensor = type switch
        {
            DataType.Double => Tensors.FromDoubles(Fresh("const"), [value]),
            DataType.Float => Tensors.FromFloats(Fresh("const"), [(float)value]),
            DataType.Int64 => Tensors.FromInt64s(Fresh("const"), [(long)value]),
            _ => throw new FacadeException($"Constants of type {type} are not supported by the graph builder."),
        };
        Initializer(tensor);
        return _constants[key] = tensor.Name;
    }

    /// <summary>A 1-D int64 constant (shapes, axes, permutations).</summary>
    public string Ints(params long[] values)
    {
        string key = "ints:" + string.Join(",", values);
        if (_constants.TryGetValue(key, out var name)) return name;
        var tensor = Tensors.FromInt64s(Fresh("ints"), values, values.Length);
        Initializer(tensor);
        return _constants[key] = tensor.Name;
    }

    // ---- operators -------------------------------------------------------------------------------------------

    public string Add(string a, string b) => Op("Add", [a, b]);
    public string Sub(string a, string b) => Op("Sub", [a, b]);
    public string Mul(string a, string b) => Op("Mul", [a, b]);
    public string Div(string a, string b) => Op("Div", [a, b]);
    public string Neg(string x) => Op("Neg", [x]);
    public string Exp(string x) => Op("Exp", [x]);
    public string Sqrt(string x) => Op("Sqrt", [x]);
    public string Erf(string x) => Op("Erf", [x]);
    public string Tanh(string x) => Op("Tanh", [x]);
    public string MatMul(string a, string b) => Op("MatMul", [a, b]);
    public string Shape(string x) => Op("Shape", [x]);
    public string Size(string x) => Op("Size", [x]);

    /// <summary>Dimensions start..end-1 of x's shape as a 1-D int64 tensor (end null = to the last).</summary>
    public string ShapeSlice(string x, long start, long? end = null)
    {
        if (Opset >= OpsetForms.ShapeRangeSince)
            return end is long e
                ? Op("Shape", [x], Attributes.Int("start", start), Attributes.Int("end", e))
                : Op("Shape", [x], Attributes.Int("start", start));
        return Op("Slice", [Shape(x), Ints(start), Ints(end ?? long.MaxValue), Ints(0)]);
    }
    public string Identity(string x) => Op("Identity", [x]);
    public string Where(string condition, string a, string b) => Op("Where", [condition, a, b]);
    public string Equal(string a, string b) => Op("Equal", [a, b]);
    public string Expand(string x, string shape) => Op("Expand", [x, shape]);
    public string Reshape(string x, string shape) => Op("Reshape", [x, shape]);
    public string Square(string x) => Mul(x, x);

    public string Cast(string x, DataType to) => Op("Cast", [x], Attributes.Int("to", (long)to));

    public string Transpose(string x, params long[] perm) => Op("Transpose", [x], Attributes.Ints("perm", perm));

    /// <summary>Softmax along one axis. Before opset 13 Softmax normalizes the flattened block [axis, rank), which is
    /// the same thing only for the last axis, so only that one is accepted there.</summary>
    public string Softmax(string x, long axis = -1)
    {
        if (Opset < OpsetForms.PerAxisSoftmaxSince && axis != -1 && axis != RankOf(x) - 1)
            throw new FacadeException($"Softmax along axis {axis} of '{x}' cannot be written at opset {Opset}, where Softmax " +
                                      "normalizes every axis from the given one on; only the last axis is the same there.");
        return Op("Softmax", [x], Attributes.Int("axis", axis));
    }

    /// <summary>LayerNormalization over the last axis; written out before opset 17, which lacks the operator.</summary>
    public string LayerNormalization(string x, string scale, string bias, float epsilon)
    {
        if (OpsetForms.Exists("LayerNormalization", Opset))
            return Op("LayerNormalization", [x, scale, bias], Attributes.Int("axis", -1), Attributes.Float("epsilon", epsilon));
        string centered = Sub(x, ReduceMean(x, [-1], keepDims: true));
        string variance = ReduceMean(Square(centered), [-1], keepDims: true);
        string normalized = Div(centered, Sqrt(Add(variance, Scalar(epsilon, x))));
        return Add(Mul(normalized, scale), bias);
    }

    /// <summary>Exact (erf) GELU, x Phi(x); written out as x/2 (1 + erf(x/sqrt 2)) before opset 20, which lacks the operator.</summary>
    public string Gelu(string x)
    {
        if (OpsetForms.Exists("Gelu", Opset)) return Op("Gelu", [x]);
        string phiTwice = Add(Erf(Mul(x, Scalar(1 / Math.Sqrt(2), x))), Scalar(1, x));
        return Mul(Mul(x, Scalar(0.5, x)), phiTwice);
    }

    /// <summary>The element-wise minimum; Min takes integers only from opset 12, so before it a Where picks.</summary>
    public string Min(string a, string b) => MinOrMax("Min", a, b);

    public string Max(string a, string b) => MinOrMax("Max", a, b);

    string MinOrMax(string op, string a, string b)
    {
        if (Opset >= OpsetForms.IntegerMinMaxSince || Info(a).IsFloat) return Op(op, [a, b]);
        string aFirst = Op(op == "Min" ? "Less" : "Greater", [a, b]);
        return Where(aFirst, a, b);
    }

    public string Gather(string data, string indices, long axis = 0) => Op("Gather", [data, indices], Attributes.Int("axis", axis));

    public string Concat(long axis, params string[] inputs) => Op("Concat", inputs, Attributes.Int("axis", axis));

    /// <summary>The element-wise sum of <paramref name="inputs"/>, as a chain of Adds: ONNX Runtime's CPU Sum took 3x
    /// as long as an Add for two inputs of the same shape (measured on gradient accumulation at 32 x 32 tokens).</summary>
    public string Sum(IReadOnlyList<string> inputs) => inputs.Skip(1).Aggregate(inputs[0], Add);

    /// <summary>One node of an operator with a list operand (axes, split sizes): an input or an attribute, as the opset wants.</summary>
    string[] WithList(string op, string x, long[] list, int outputs, params AttributeProto[] attributes) =>
        OpsetForms.ListIsInput(op, Opset)
            ? Node(op, [x, Ints(list)], outputs, attributes)
            : Node(op, [x], outputs, [.. attributes, Attributes.Ints(OpsetForms.ListName(op), list)]);

    public string Unsqueeze(string x, params long[] axes) => WithList("Unsqueeze", x, axes, 1)[0];

    public string Squeeze(string x, params long[] axes) => WithList("Squeeze", x, axes, 1)[0];

    public string ReduceSum(string x, long[] axes, bool keepDims) =>
        WithList("ReduceSum", x, axes, 1, Attributes.Int("keepdims", keepDims ? 1 : 0))[0];

    /// <summary>Whether <see cref="ReduceSumDynamic"/> can be written: ReduceSum takes axes as an input from opset 13.</summary>
    public bool HasRuntimeAxes => OpsetForms.ListIsInput("ReduceSum", Opset);

    /// <summary>ReduceSum over axes given as a run-time tensor; an empty axes tensor leaves the input unchanged.</summary>
    public string ReduceSumDynamic(string x, string axes, bool keepDims) => HasRuntimeAxes
        ? Op("ReduceSum", [x, axes], Attributes.Int("keepdims", keepDims ? 1 : 0), Attributes.Int("noop_with_empty_axes", 1))
        : throw new InvalidOperationException($"ReduceSum over run-time axes needs opset 13; this graph is at opset {Opset}.");

    public string ReduceMean(string x, long[] axes, bool keepDims) =>
        WithList("ReduceMean", x, axes, 1, Attributes.Int("keepdims", keepDims ? 1 : 0))[0];

    /// <summary>Parts of <paramref name="sizes"/> along <paramref name="axis"/>.</summary>
    public string[] Split(string x, long axis, params long[] sizes) =>
        WithList("Split", x, sizes, sizes.Length, Attributes.Int("axis", axis));

    /// <summary>
    /// Parts along <paramref name="axis"/> whose sizes are 1-element int64 tensors, constant or computed. Before opset 13
    /// Split takes constant sizes only, so computed sizes take one Slice per part there.
    /// </summary>
    public string[] Split(string x, long axis, IReadOnlyList<string> sizes)
    {
        var known = sizes.Select(s => Info(s).KnownValues is [long v] ? v : (long?)null).ToArray();
        if (known.All(k => k != null)) return Split(x, axis, known.Select(k => k!.Value).ToArray());
        if (OpsetForms.ListIsInput("Split", Opset))
            return Node("Split", [x, Concat(0, [.. sizes])], sizes.Count, Attributes.Int("axis", axis));
        var parts = new string[sizes.Count];
        string start = Ints(0), axes = Ints(axis);
        for (int i = 0; i < sizes.Count; i++)
        {
            string end = Add(start, sizes[i]);
            parts[i] = Op("Slice", [x, start, end, axes]);
            start = end;
        }
        return parts;
    }

    /// <summary>0, 1, ..., n - 1 for the size n of <paramref name="x"/> along <paramref name="axis"/> (int64).</summary>
    public string Positions(string x, int axis) =>
        Op("Range", [Scalar(0, DataType.Int64), Reshape(ShapeSlice(x, axis, axis + 1), Ints()), Scalar(1, DataType.Int64)]);

    /// <summary>
    /// <paramref name="data"/> [n, ...] plus <paramref name="updates"/> [indices..., ...] added at the rows that
    /// <paramref name="indices"/> (int64 in [0, n)) name; repeated indices add up. ScatterND adds from opset 16;
    /// before, a [n, k] one-hot matrix times the updates flattened to [k, rest] does the sum.
    /// </summary>
    public string ScatterAddRows(string data, string indices, string updates)
    {
        if (Opset >= OpsetForms.ScatterAddSince)
            return Op("ScatterND", [data, Unsqueeze(indices, -1), updates], Attributes.String("reduction", "add"));
        string flat = Reshape(indices, Ints(-1));
        string oneHot = Cast(Equal(Unsqueeze(Positions(data, 0), 1), Unsqueeze(flat, 0)), TypeOf(updates));
        string rows = MatMul(oneHot, Reshape(updates, Concat(0, Shape(flat), Ints(-1))));
        return Add(data, Reshape(rows, Shape(data)));
    }

    /// <summary>
    /// The Mean and InvStdDev outputs of a LayerNormalization node (optional outputs 1 and 2), added to the node when it
    /// does not produce them yet, so a backward pass reuses the statistics instead of recomputing them.
    /// </summary>
    public (string Mean, string InvStdDev) LayerNormStatistics(NodeProto node)
    {
        while (node.Output.Count < 3) node.Output.Add("");
        for (int i = 1; i <= 2; i++)
            if (node.Output[i] == "")
            {
                string name = Fresh(node.Output[0] + (i == 1 ? "/mean" : "/inv_std_dev"));
                _reserved.Remove(name);
                node.Output[i] = name;
            }
        Shapes.Infer(node);
        // The statistics come in stash_type (float unless set); a double graph casts them back to double.
        var type = TypeOf(node.Input[0]);
        var stash = (DataType)node.GetInt("stash_type", (long)DataType.Float);
        foreach (int i in new[] { 1, 2 }) Shapes.Set(node.Output[i], Info(node.Output[i]) with { ElementType = stash });
        return stash == type ? (node.Output[1], node.Output[2]) : (Cast(node.Output[1], type), Cast(node.Output[2], type));
    }

    /// <summary>A tensor of zeros with the shape and element type of <paramref name="like"/>.</summary>
    public string ZerosLike(string like)
    {
        var type = TypeOf(like);
        var value = type == DataType.Double ? Tensors.FromDoubles("value", [0.0], 1) : Tensors.FromFloats("value", [0f], 1);
        return Op("ConstantOfShape", [Shape(like)], Attributes.Tensor("value", value));
    }
}
