using FacadeOnnx.Graph.Building;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Graph.Shapes;

/// <summary>
/// Static element types, ranks, dimensions and small integer values of a graph's tensors, far enough for the autodiff
/// to know ranks and to prove when a broadcast did not happen. Incremental: the builder feeds every node it emits.
/// Whatever cannot be derived stays unknown, and the rules then fall back to shape computations at run time.
/// </summary>
public sealed class ShapeInference
{
    readonly Dictionary<string, TensorInfo> _info = new();
    readonly int _opset;

    public ShapeInference(GraphProto graph, int opset)
    {
        _opset = opset;
        foreach (var init in graph.Initializer) _info[init.Name] = FromTensor(init);
        foreach (var input in graph.Input)
            if (!_info.ContainsKey(input.Name)) _info[input.Name] = FromValueInfo(input);
        foreach (var vi in graph.ValueInfo) _info.TryAdd(vi.Name, FromValueInfo(vi));
        foreach (var node in graph.Node) Infer(node);
    }

    public TensorInfo? this[string name] => _info.TryGetValue(name, out var i) ? i : null;

    public void Set(string name, TensorInfo info) => _info[name] = info;

    public static TensorInfo FromTensor(TensorProto t)
    {
        var dims = t.Dims.Select(Dim.Of).ToArray();
        Dim[]? values = null;
        double? scalar = null;
        long count = Tensors.ElementCount(t);
        if (t.DataType is (int)DataType.Int64 or (int)DataType.Int32 && count <= 64)
            values = Tensors.ToInt64s(t).Select(Dim.Of).ToArray();
        if (count == 1 && t.DataType is (int)DataType.Float or (int)DataType.Double or (int)DataType.Int64 or (int)DataType.Int32)
            scalar = Tensors.ScalarValue(t);
        return new TensorInfo((DataType)t.DataType, dims, values, scalar);
    }

    static TensorInfo FromValueInfo(ValueInfoProto vi)
    {
        var tensor = vi.Type?.TensorType;
        if (tensor == null) return new TensorInfo(DataType.Undefined, null);
        Dim[]? dims = tensor.Shape?.Dim.Select(d =>
            d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? Dim.Of(d.DimValue)
            : d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? Dim.Named(d.DimParam)
            : Dim.Unknown).ToArray();
        return new TensorInfo((DataType)tensor.ElemType, dims);
    }

    public void Infer(NodeProto node)
    {
        TensorInfo?[] outs;
        try
        {
            outs = InferOutputs(node);
        }
        catch (Exception e) when (e is not FacadeException)
        {
            outs = new TensorInfo?[node.Output.Count];
        }
        for (int i = 0; i < node.Output.Count; i++)
        {
            if (string.IsNullOrEmpty(node.Output[i])) continue;
            _info[node.Output[i]] = outs.Length > i && outs[i] != null ? outs[i]! : new TensorInfo(DataType.Undefined, null);
        }
    }

    TensorInfo? In(NodeProto n, int i) => i < n.Input.Count && n.Input[i] != "" ? this[n.Input[i]] : null;

    long[]? ConstInts(NodeProto n, int i) => In(n, i)?.KnownValues;

    /// <summary>Constant axes (split sizes) from the attribute or the input, whichever the opset uses.</summary>
    long[]? List(NodeProto n) => OpsetForms.List(n, _opset, name => this[name]?.KnownValues);

    TensorInfo?[] InferOutputs(NodeProto n)
    {
        var x = In(n, 0);
        var type = x?.ElementType ?? DataType.Undefined;
        switch (n.OpType)
        {
            case "Constant": return [ConstantValue(n)];
            case "Identity": case "Dropout": case "Erf": case "Tanh": case "Sqrt": case "Exp": case "Neg": case "Relu":
            case "Sigmoid": case "Log": case "Abs": case "Softmax": case "LogSoftmax": case "Gelu": case "Not": case "Reciprocal":
            case "Cos": case "Sin": case "Tan": case "Floor": case "Ceil": case "Round": case "Sign": case "Softplus": case "Softsign":
            case "Elu": case "Selu": case "LeakyRelu": case "HardSigmoid": case "Clip": case "Mish": case "HardSwish":
                if (x is null) return [null, null];   // an input of unknown shape: nothing to infer
                return [x with { Values = n.OpType is "Identity" or "Neg" ? x.Values : null, Scalar = null },
                        n.OpType == "Dropout" ? new TensorInfo(DataType.Bool, x.Dims) : null];
            case "Cast":
                return [new TensorInfo((DataType)n.GetInt("to", 0), x!.Dims, x.Values)];
            case "Shape":
            {
                if (x?.Dims == null) return [new TensorInfo(DataType.Int64, [Dim.Unknown])];
                int r = x.Dims.Length;
                int start = (int)Norm(n.GetInt("start", 0), r), end = (int)Norm(n.GetInt("end", r), r);
                var vals = x.Dims[Math.Clamp(start, 0, r)..Math.Clamp(end, 0, r)];
                return [new TensorInfo(DataType.Int64, [Dim.Of(vals.Length)], vals)];
            }
            case "Size": return [new TensorInfo(DataType.Int64, [])];
            case "Gather": return [Gather(n, x!, In(n, 1)!)];
            case "Unsqueeze": return [Unsqueeze(x!, List(n))];
            case "Squeeze": return [Squeeze(x!, List(n))];
            case "Concat": return [Concat(n)];
            case "Reshape": return [Reshape(x!, In(n, 1)!)];
            case "Transpose":
            {
                if (x!.Dims == null) return [x];
                long[] perm = n.GetInts("perm") ?? Enumerable.Range(0, x.Dims.Length).Reverse().Select(i => (long)i).ToArray();
                return [x with { Dims = perm.Select(p => x.Dims[p]).ToArray(), Values = null, Scalar = null }];
            }
            case "MatMul": return [MatMul(x!, In(n, 1)!)];
            case "Gemm":
            {
                var b = In(n, 1)!;
                Dim m = x!.Dims?[n.GetInt("transA", 0) == 1 ? 1 : 0] ?? Dim.Unknown;
                Dim nn = b.Dims?[n.GetInt("transB", 0) == 1 ? 0 : 1] ?? Dim.Unknown;
                return [new TensorInfo(type, [m, nn])];
            }
            case "Add": case "Sub": case "Mul": case "Div": case "Pow": case "Max": case "Min":
                return [Broadcast(type, n.Input.Select(i => this[i]!).ToArray(), n.OpType)];
            case "Equal": case "Less": case "Greater": case "LessOrEqual": case "GreaterOrEqual": case "And": case "Or": case "Xor":
                return [Broadcast(DataType.Bool, n.Input.Select(i => this[i]!).ToArray(), null)];
            case "Where":
                return [Broadcast(In(n, 1)!.ElementType, n.Input.Select(i => this[i]!).ToArray(), null)];
            case "Sum":
                return [Broadcast(type, n.Input.Select(i => this[i]!).ToArray(), null)];
            case "Expand":
            {
                var shape = In(n, 1)!;
                var target = new TensorInfo(type, shape.Values ?? (shape.Dims?[0].IsValue == true
                    ? Enumerable.Repeat(Dim.Unknown, (int)shape.Dims[0].Value).ToArray() : null));
                return [Broadcast(type, [x!, target], null)];
            }
            case "ConstantOfShape":
            {
                var shape = In(n, 0)!;
                var value = n.Find("value")?.T;
                var et = value != null ? (DataType)value.DataType : DataType.Float;
                Dim[]? dims = shape.Values ?? (shape.Dims?[0].IsValue == true ? Enumerable.Repeat(Dim.Unknown, (int)shape.Dims[0].Value).ToArray() : null);
                return [new TensorInfo(et, dims)];
            }
            case "ReduceSum": case "ReduceMean": case "ReduceMax": case "ReduceMin": case "ReduceProd": case "ReduceL2": case "ReduceSumSquare":
            {
                long[]? axes = List(n);
                bool keep = n.GetInt("keepdims", 1) == 1;
                if (x!.Dims == null) return [new TensorInfo(type, null)];
                if (axes == null && OpsetForms.ListGivenAsInput(n, _opset)) return [new TensorInfo(type, keep ? x.Dims.Select(_ => Dim.Unknown).ToArray() : null)];
                int r = x.Dims.Length;
                var set = (axes ?? Enumerable.Range(0, r).Select(i => (long)i).ToArray()).Select(a => Norm(a, r)).ToHashSet();
                var dims = new List<Dim>();
                for (int i = 0; i < r; i++)
                    if (!set.Contains(i)) dims.Add(x.Dims[i]);
                    else if (keep) dims.Add(Dim.Of(1));
                return [new TensorInfo(type, dims.ToArray())];
            }
            case "ArgMax": case "ArgMin":
            {
                if (x!.Dims == null) return [new TensorInfo(DataType.Int64, null)];
                int r = x.Dims.Length, axis = (int)Norm(n.GetInt("axis", 0), r);
                bool keep = n.GetInt("keepdims", 1) == 1;
                var dims = x.Dims.Select((d, i) => i == axis ? Dim.Of(1) : d).Where((d, i) => keep || i != axis).ToArray();
                return [new TensorInfo(DataType.Int64, dims)];
            }
            case "LayerNormalization":
            {
                if (x!.Dims == null) return [x, null, null];
                int r = x.Dims.Length, axis = (int)Norm(n.GetInt("axis", -1), r);
                var stat = x.Dims.Select((d, i) => i >= axis ? Dim.Of(1) : d).ToArray();
                return [x with { Values = null, Scalar = null }, new TensorInfo(type, stat), new TensorInfo(type, stat)];
            }
            case "OneHot":
            {
                var values = In(n, 2)!;
                var depth = In(n, 1);
                if (x!.Dims == null) return [new TensorInfo(values.ElementType, null)];
                int r = x.Dims.Length + 1, axis = (int)Norm(n.GetInt("axis", -1), r);
                var d = depth?.Scalar is double v ? Dim.Of((long)v) : depth?.Values is { Length: 1 } dv ? dv[0] : Dim.Unknown;
                var dims = x.Dims.ToList();
                dims.Insert(axis, d);
                return [new TensorInfo(values.ElementType, dims.ToArray())];
            }
            case "Slice": return [Slice(n, x!)];
            case "Split":
            {
                if (x!.Dims == null) return n.Output.Select(_ => (TensorInfo?)new TensorInfo(type, null)).ToArray();
                int r = x.Dims.Length, axis = (int)Norm(n.GetInt("axis", 0), r);
                long[]? sizes = List(n);
                return n.Output.Select((_, k) => (TensorInfo?)new TensorInfo(type,
                    x.Dims.Select((d, i) => i != axis ? d : sizes != null ? Dim.Of(sizes[k]) : Dim.Unknown).ToArray())).ToArray();
            }
            case "Flatten":
            {
                if (x!.Dims == null) return [new TensorInfo(type, [Dim.Unknown, Dim.Unknown])];
                int axis = (int)Norm(n.GetInt("axis", 1), x.Dims.Length);
                Dim Product(IEnumerable<Dim> dims) => dims.All(d => d.IsValue) ? Dim.Of(dims.Aggregate(1L, (a, d) => a * d.Value)) : Dim.Unknown;
                return [new TensorInfo(type, [Product(x.Dims[..axis]), Product(x.Dims[axis..])])];
            }
            case "Range": return [new TensorInfo(type, [Dim.Unknown])];
            case "NonZero": return [new TensorInfo(DataType.Int64, [x?.Dims == null ? Dim.Unknown : Dim.Of(x.Dims.Length), Dim.Unknown])];
            case "Pad":
                return [x!.Dims == null ? x : x with { Dims = x.Dims.Select(_ => Dim.Unknown).ToArray(), Values = null, Scalar = null }];
            case "ScatterND": case "ScatterElements":
                return [x! with { Values = null, Scalar = null }];
            default:
                // Unknown to the inference: same element type as the first input, shape unknown.
                return n.Output.Select(_ => (TensorInfo?)new TensorInfo(type, null)).ToArray();
        }
    }

    static long Norm(long axis, int rank) => axis < 0 ? axis + rank : axis;

    TensorInfo ConstantValue(NodeProto n)
    {
        var t = n.Find("value")?.T;
        if (t != null) return FromTensor(t);
        if (n.Find("value_float") is { } f) return new TensorInfo(DataType.Float, [], null, f.F);
        if (n.Find("value_int") is { } i) return new TensorInfo(DataType.Int64, [], [Dim.Of(i.I)], i.I);
        if (n.Find("value_ints") is { } ints)
            return new TensorInfo(DataType.Int64, [Dim.Of(ints.Ints.Count)], ints.Ints.Select(Dim.Of).ToArray());
        if (n.Find("value_floats") is { } fs) return new TensorInfo(DataType.Float, [Dim.Of(fs.Floats.Count)]);
        return new TensorInfo(DataType.Undefined, null);
    }

    TensorInfo Gather(NodeProto n, TensorInfo data, TensorInfo indices)
    {
        if (data.Dims == null || indices.Dims == null) return new TensorInfo(data.ElementType, null);
        int r = data.Dims.Length, axis = (int)Norm(n.GetInt("axis", 0), r);
        var dims = data.Dims[..axis].Concat(indices.Dims).Concat(data.Dims[(axis + 1)..]).ToArray();
        Dim[]? values = null;
        if (data.Values != null && r == 1 && indices.KnownValues is { } idx)
            values = idx.Select(i => data.Values[(int)Norm(i, data.Values.Length)]).ToArray();
        return new TensorInfo(data.ElementType, dims, values);
    }

    static TensorInfo Unsqueeze(TensorInfo x, long[]? axes)
    {
        if (x.Dims == null || axes == null) return new TensorInfo(x.ElementType, null);
        int r = x.Dims.Length + axes.Length;
        var set = axes.Select(a => Norm(a, r)).ToHashSet();
        var dims = new Dim[r];
        int k = 0;
        for (int i = 0; i < r; i++) dims[i] = set.Contains(i) ? Dim.Of(1) : x.Dims[k++];
        return new TensorInfo(x.ElementType, dims, x.Values);
    }

    static TensorInfo Squeeze(TensorInfo x, long[]? axes)
    {
        if (x.Dims == null) return new TensorInfo(x.ElementType, null);
        int r = x.Dims.Length;
        if (axes == null)
            return x.Dims.All(d => d.IsValue)
                ? new TensorInfo(x.ElementType, x.Dims.Where(d => d.Value != 1).ToArray(), x.Values)
                : new TensorInfo(x.ElementType, null);
        var set = axes.Select(a => Norm(a, r)).ToHashSet();
        return new TensorInfo(x.ElementType, x.Dims.Where((_, i) => !set.Contains(i)).ToArray(), x.Values);
    }

    TensorInfo Concat(NodeProto n)
    {
        var parts = n.Input.Select(i => this[i]).ToArray();
        var first = parts[0]!;
        if (parts.Any(p => p?.Dims == null)) return new TensorInfo(first.ElementType, null);
        int r = first.Dims!.Length, axis = (int)Norm(n.GetInt("axis", 0), r);
        var dims = first.Dims.ToArray();
        dims[axis] = parts.All(p => p!.Dims![axis].IsValue) ? Dim.Of(parts.Sum(p => p!.Dims![axis].Value)) : Dim.Unknown;
        for (int i = 0; i < r; i++)
            if (i != axis && !dims[i].IsValue && !dims[i].IsSymbol)
                dims[i] = parts.Select(p => p!.Dims![i]).FirstOrDefault(d => d.IsValue || d.IsSymbol, Dim.Unknown);
        Dim[]? values = r == 1 && parts.All(p => p!.Values != null) ? parts.SelectMany(p => p!.Values!).ToArray() : null;
        return new TensorInfo(first.ElementType, dims, values);
    }

    static TensorInfo Reshape(TensorInfo x, TensorInfo shape)
    {
        if (shape.Values == null)
            return new TensorInfo(x.ElementType, shape.Dims?[0].IsValue == true
                ? Enumerable.Repeat(Dim.Unknown, (int)shape.Dims[0].Value).ToArray() : null);
        var dims = shape.Values.Select((v, i) =>
            v.IsSymbol ? v
            : !v.IsValue ? Dim.Unknown
            : v.Value == 0 && x.Dims != null && i < x.Dims.Length ? x.Dims[i]
            : v.Value < 0 ? Dim.Unknown
            : v).ToArray();
        // One -1 can be resolved when every other size is a known number on both sides.
        int minus = Array.FindIndex(shape.Values, v => v.IsValue && v.Value == -1);
        if (minus >= 0 && x.Dims != null && x.Dims.All(d => d.IsValue) && dims.Where((_, i) => i != minus).All(d => d.IsValue))
        {
            long total = x.Dims.Aggregate(1L, (a, d) => a * d.Value);
            long rest = dims.Where((_, i) => i != minus).Aggregate(1L, (a, d) => a * d.Value);
            if (rest > 0) dims[minus] = Dim.Of(total / rest);
        }
        return new TensorInfo(x.ElementType, dims, x.Values != null && dims.Length <= 1 ? x.Values : null);
    }

    static TensorInfo MatMul(TensorInfo a, TensorInfo b)
    {
        if (a.Dims == null || b.Dims == null) return new TensorInfo(a.ElementType, null);
        var ad = a.Dims; var bd = b.Dims;
        if (ad.Length == 1 || bd.Length == 1) return new TensorInfo(a.ElementType, null);
        var batchA = new TensorInfo(a.ElementType, ad[..^2]);
        var batchB = new TensorInfo(a.ElementType, bd[..^2]);
        var batch = Broadcast(a.ElementType, [batchA, batchB], null).Dims;
        return new TensorInfo(a.ElementType, batch == null ? null : [.. batch, ad[^2], bd[^1]]);
    }

    static TensorInfo Broadcast(DataType type, TensorInfo[] inputs, string? foldOp)
    {
        if (inputs.Any(i => i?.Dims == null)) return new TensorInfo(type, null);
        int r = inputs.Max(i => i.Dims!.Length);
        var dims = new Dim[r];
        for (int k = 0; k < r; k++)
        {
            Dim result = Dim.Of(1);
            bool first = true;
            foreach (var input in inputs)
            {
                int j = k - (r - input.Dims!.Length);
                if (j < 0) continue;
                Dim d = input.Dims[j];
                if (first) { result = d; first = false; continue; }
                if (d.IsValue && d.Value == 1) continue;
                if (result.IsValue && result.Value == 1) { result = d; continue; }
                if (result.SameAs(d)) continue;
                if (d.IsValue && !result.IsValue) { result = d; continue; }
                if (!(result.IsValue || result.IsSymbol)) continue;
                if (!(d.IsValue || d.IsSymbol)) continue;
                result = result.IsValue ? result : d.IsValue ? d : Dim.Unknown;
            }
            dims[k] = result;
        }
        Dim[]? values = null;
        if (foldOp != null && inputs.Length == 2 && inputs.All(i => i.KnownValues != null) && r <= 1)
        {
            long[] a = inputs[0].KnownValues!, b = inputs[1].KnownValues!;
            int len = Math.Max(a.Length, b.Length);
            if ((a.Length == len || a.Length == 1) && (b.Length == len || b.Length == 1))
            {
                values = new Dim[len];
                for (int i = 0; i < len; i++)
                {
                    long u = a[a.Length == 1 ? 0 : i], v = b[b.Length == 1 ? 0 : i];
                    long? res = foldOp switch { "Add" => u + v, "Sub" => u - v, "Mul" => u * v, "Div" when v != 0 => u / v, _ => null };
                    values[i] = res is long l ? Dim.Of(l) : Dim.Unknown;
                }
            }
        }
        return new TensorInfo(type, dims, values);
    }

    TensorInfo Slice(NodeProto n, TensorInfo x)
    {
        if (x.Dims == null) return x with { Values = null, Scalar = null };
        int r = x.Dims.Length;
        long[]? starts = _opset >= 10 ? ConstInts(n, 1) : n.GetInts("starts");
        long[]? ends = _opset >= 10 ? ConstInts(n, 2) : n.GetInts("ends");
        long[]? axes = _opset >= 10 ? (n.Input.Count > 3 && n.Input[3] != "" ? ConstInts(n, 3) : starts == null ? null : Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray()) : n.GetInts("axes");
        long[]? steps = _opset >= 10 && n.Input.Count > 4 && n.Input[4] != "" ? ConstInts(n, 4) : null;
        var dims = x.Dims.ToArray();
        if (starts == null || ends == null || axes == null)
            return new TensorInfo(x.ElementType, dims.Select(_ => Dim.Unknown).ToArray());
        Dim[]? values = null;
        for (int k = 0; k < axes.Length; k++)
        {
            int a = (int)Norm(axes[k], r);
            long step = steps?[k] ?? 1;
            if (!dims[a].IsValue || step != 1) { dims[a] = Dim.Unknown; continue; }
            long size = dims[a].Value;
            long s = Math.Clamp(starts[k] < 0 ? starts[k] + size : starts[k], 0, size);
            long e = Math.Clamp(ends[k] < 0 ? ends[k] + size : ends[k], 0, size);
            dims[a] = Dim.Of(Math.Max(0, e - s));
            if (r == 1 && x.Values != null) values = x.Values[(int)s..(int)Math.Max(s, e)];
        }
        return new TensorInfo(x.ElementType, dims, values);
    }
}
