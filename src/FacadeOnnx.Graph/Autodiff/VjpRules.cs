using FacadeOnnx.Graph.Building;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Graph.Autodiff;

/// <summary>
/// A vector-Jacobian rule: given the forward node, the incoming gradient of each output (null where none flows) and a
/// builder, returns for each input a function that emits its gradient with standard ONNX operators, or null where the
/// input takes none (a mask, a shape, indices). Functions are only called for inputs that need a gradient.
/// </summary>
public delegate Func<string>?[] VjpRule(NodeProto n, string?[] g, GraphBuilder b);

/// <summary>
/// Every differentiable operator the autodiff knows, one entry each: the simple rules on one line, the larger ones as
/// named methods below. A new rule comes with its finite-difference and TorchSharp tests in the same change
/// (tests/FacadeOnnx.Graph.Tests/VjpRuleTests.cs and tests/FacadeOnnx.Training.Tests/VjpRuleTorchTests.cs).
/// </summary>
public static class VjpRules
{
    public static readonly IReadOnlyDictionary<string, VjpRule> All = new Dictionary<string, VjpRule>
    {
        ["Identity"] = (n, g, b) => [() => g[0]!],
        ["Dropout"] = (n, g, b) => [() => g[0]!, null, null],          // inference: the identity
        ["Cast"] = (n, g, b) => [() => b.Cast(g[0]!, b.TypeOf(n.Input[0]))],
        ["Neg"] = (n, g, b) => [() => b.Neg(g[0]!)],
        ["Add"] = (n, g, b) => [() => b.SumToShapeOf(g[0]!, n.Input[0], n.Output[0]), () => b.SumToShapeOf(g[0]!, n.Input[1], n.Output[0])],
        ["Sub"] = (n, g, b) => [() => b.SumToShapeOf(g[0]!, n.Input[0], n.Output[0]), () => b.SumToShapeOf(b.Neg(g[0]!), n.Input[1], n.Output[0])],
        ["Mul"] = (n, g, b) => [() => b.SumToShapeOf(b.Mul(g[0]!, n.Input[1]), n.Input[0], n.Output[0]), () => b.SumToShapeOf(b.Mul(g[0]!, n.Input[0]), n.Input[1], n.Output[0])],
        ["Div"] = (n, g, b) => [() => b.SumToShapeOf(b.Div(g[0]!, n.Input[1]), n.Input[0], n.Output[0]), () => b.SumToShapeOf(b.Neg(b.Div(b.Mul(g[0]!, n.Output[0]), n.Input[1])), n.Input[1], n.Output[0])],
        ["Sum"] = (n, g, b) => n.Input.Select(x => (Func<string>?)(() => b.SumToShapeOf(g[0]!, x, n.Output[0]))).ToArray(),
        ["Expand"] = (n, g, b) => [() => b.SumToShapeOf(g[0]!, n.Input[0], n.Output[0]), null],
        ["Exp"] = (n, g, b) => [() => b.Mul(g[0]!, n.Output[0])],
        ["Tanh"] = (n, g, b) => [() => b.Mul(g[0]!, b.Sub(b.Scalar(1, n.Output[0]), b.Square(n.Output[0])))],
        ["Sigmoid"] = (n, g, b) => [() => b.Mul(g[0]!, b.Mul(n.Output[0], b.Sub(b.Scalar(1, n.Output[0]), n.Output[0])))],
        ["Sqrt"] = (n, g, b) => [() => b.Div(b.Mul(g[0]!, b.Scalar(0.5, n.Output[0])), n.Output[0])],
        ["Log"] = (n, g, b) => [() => b.Div(g[0]!, n.Input[0])],
        ["Reciprocal"] = (n, g, b) => [() => b.Neg(b.Mul(g[0]!, b.Square(n.Output[0])))],
        ["Relu"] = (n, g, b) => [() => b.Where(b.Op("Greater", [n.Input[0], b.Scalar(0, n.Input[0])]), g[0]!, b.Scalar(0, n.Input[0]))],
        ["Erf"] = (n, g, b) => [() => b.Mul(g[0]!, b.Mul(b.Scalar(2 / Math.Sqrt(Math.PI), n.Input[0]), b.Exp(b.Neg(b.Square(n.Input[0])))))],
        ["Gelu"] = GeluVjp,
        ["Pow"] = PowVjp,
        ["Softmax"] = (n, g, b) => [() => b.Mul(n.Output[0], b.Sub(g[0]!, b.ReduceSum(b.Mul(g[0]!, n.Output[0]), SoftmaxAxes(n, b), keepDims: true)))],
        ["LogSoftmax"] = (n, g, b) => [() => b.Sub(g[0]!, b.Mul(b.Exp(n.Output[0]), b.ReduceSum(g[0]!, SoftmaxAxes(n, b), keepDims: true)))],
        ["LayerNormalization"] = LayerNormVjp,
        ["ReduceMean"] = ReduceMeanVjp,
        ["ReduceSum"] = ReduceSumVjp,
        ["MatMul"] = MatMulVjp,
        ["Gemm"] = GemmVjp,
        ["Reshape"] = (n, g, b) => [() => b.Reshape(g[0]!, b.Shape(n.Input[0])), null],
        ["Flatten"] = (n, g, b) => [() => b.Reshape(g[0]!, b.Shape(n.Input[0]))],
        ["Unsqueeze"] = (n, g, b) => [() => b.Reshape(g[0]!, b.Shape(n.Input[0])), null],
        ["Squeeze"] = (n, g, b) => [() => b.Reshape(g[0]!, b.Shape(n.Input[0])), null],
        ["Transpose"] = TransposeVjp,
        ["Concat"] = ConcatVjp,
        ["Split"] = SplitVjp,
        ["Gather"] = GatherVjp,
        ["Slice"] = SliceVjp,
        ["Where"] = (n, g, b) => [null, () => b.SumToShapeOf(b.Where(n.Input[0], g[0]!, b.Scalar(0, n.Output[0])), n.Input[1], n.Output[0]), () => b.SumToShapeOf(b.Where(n.Input[0], b.Scalar(0, n.Output[0]), g[0]!), n.Input[2], n.Output[0])],
    };

    /// <summary>
    /// The rule for a node, or an error naming the node, its operator and domain, and the rules that exist. Rules are
    /// for standard (ai.onnx) operators only: a same-named operator of another domain means something else.
    /// </summary>
    public static VjpRule For(NodeProto node, string wrt, string objective)
    {
        bool standard = node.Domain is "" or "ai.onnx";
        if (standard && All.TryGetValue(node.OpType, out var rule)) return rule;
        throw new FacadeException(
            $"No gradient rule for operator '{node.OpType}' (domain '{(standard ? "ai.onnx" : node.Domain)}') at {node.Describe()}, " +
            $"which lies between '{wrt}' and '{objective}'. The autodiff differentiates standard ai.onnx operators; " +
            $"Rules exist for: {string.Join(", ", All.Keys.OrderBy(x => x))}.");
    }

    /// <summary>Operators whose outputs carry no gradient (integer or boolean results, shape queries).</summary>
    public static readonly IReadOnlySet<string> NonDifferentiable = new HashSet<string>
    {
        "Shape", "Size", "ArgMax", "ArgMin", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And",
        "Or", "Xor", "NonZero", "Range", "ConstantOfShape", "Constant", "OneHot", "IsNaN", "IsInf", "Sign", "Floor", "Ceil", "Round",
    };

    // Exact GELU: y = x Phi(x), so dy/dx = Phi(x) + x phi(x). With u = x / sqrt 2,
    // 2 dy/dx = 1 + erf(u) + x exp(ln sqrt(2/pi) - u^2): ten element-wise nodes over the widest tensor of the network.
    // Not y / x for Phi: the division needs a Where for x = 0, and ONNX Runtime's Where with a scalar branch is slow
    // (the README's performance notes have the measurement).
    static Func<string>?[] GeluVjp(NodeProto n, string?[] g, GraphBuilder b)
    {
        string approx = n.GetString("approximate") ?? "none";
        if (approx != "none")
            throw new FacadeException($"{n.Describe()} uses approximate='{approx}'; the autodiff has a rule for the exact (erf) GELU only.");
        return [() =>
        {
            string x = n.Input[0];
            string u = b.Mul(x, b.Scalar(1 / Math.Sqrt(2), x));
            string scaledGaussian = b.Exp(b.Sub(b.Scalar(Math.Log(Math.Sqrt(2 / Math.PI)), x), b.Mul(u, u)));
            string twice = b.Add(b.Add(b.Erf(u), b.Mul(x, scaledGaussian)), b.Scalar(1, x)); // Adds: a broadcasting Sum is 5x slower
            // Halve the derivative, not g: ONNX Runtime folds a scalar Mul on g into the next MatMul as a FusedMatMul,
            // which loses the pre-packed weights (slower; see the README's performance notes).
            return b.Mul(g[0]!, b.Mul(twice, b.Scalar(0.5, x)));
        }, null];
    }

    static Func<string>?[] PowVjp(NodeProto n, string?[] g, GraphBuilder b)
    {
        return [() =>
        {
            double p = b.Info(n.Input[1]).Scalar ?? throw new FacadeException(
                $"{n.Describe()} raises to a non-constant exponent '{n.Input[1]}'; the Pow rule needs a constant scalar exponent.");
            string x = n.Input[0];
            string derivative = p == 2 ? b.Mul(x, b.Scalar(2, x))
                : p == 1 ? b.Scalar(1, x)
                : b.Mul(b.Scalar(p, x), b.Op("Pow", [x, b.Scalar(p - 1, x)]));
            return b.Mul(g[0]!, derivative);
        }, () => throw new FacadeException($"{n.Describe()}: gradients with respect to an exponent are not supported.")];
    }

    static long[] TrailingAxes(long axis, int? rank)
    {
        if (axis < 0) return Enumerable.Range(0, (int)-axis).Select(i => axis + i).ToArray();
        if (rank is not int r) throw new FacadeException("LayerNormalization with a non-negative axis needs a known input rank.");
        return Enumerable.Range((int)axis, r - (int)axis).Select(i => (long)i).ToArray();
    }

    // Uses the statistics the forward node already computes (its optional Mean and InvStdDev outputs, added to the node
    // when absent): xhat = (x - mean) * r, dx = r * (g' - mean(g') - xhat * mean(g' * xhat)) with g' = g * gamma.
    static Func<string>?[] LayerNormVjp(NodeProto n, string?[] g, GraphBuilder b)
    {
        if (g.Skip(1).Any(x => x != null))
            throw new FacadeException($"{n.Describe()}: gradients through the Mean/InvStdDev outputs are not supported.");
        string x = n.Input[0], scale = n.Input[1];
        long[] axes = TrailingAxes(n.GetInt("axis", -1), b.Info(x).Rank);
        var (mean, rstd) = b.LayerNormStatistics(n);
        string xhat = b.Mul(b.Sub(x, mean), rstd);
        var result = new Func<string>?[n.Input.Count];
        result[0] = () =>
        {
            string gs = b.Mul(g[0]!, scale);
            string inner = b.Sub(b.Sub(gs, b.ReduceMean(gs, axes, keepDims: true)),
                                 b.Mul(xhat, b.ReduceMean(b.Mul(gs, xhat), axes, keepDims: true)));
            return b.Mul(rstd, inner);
        };
        result[1] = () => b.SumToShapeOf(b.Mul(g[0]!, xhat), scale, n.Output[0]);
        if (n.Input.Count > 2) result[2] = () => b.SumToShapeOf(g[0]!, n.Input[2], n.Output[0]);
        return result;
    }

    static long[] SoftmaxAxes(NodeProto n, GraphBuilder b) => OpsetForms.SoftmaxAxes(n, b.Opset, () => b.RankOf(n.Input[0], n));

    /// <summary>The output gradient with the reduced axes restored (size 1), ready to broadcast over the input.</summary>
    static string KeepDims(NodeProto n, string g, GraphBuilder b)
    {
        if (n.GetInt("keepdims", 1) == 1) return g;
        long[]? axes = OpsetForms.List(n, b.Opset, name => b.Info(name).KnownValues);
        int rank = b.RankOf(n.Input[0], n);
        if (axes == null)
        {
            if (OpsetForms.ListGivenAsInput(n, b.Opset))
                throw new FacadeException($"{n.Describe()} reduces over axes computed at run time; the rule needs constant axes.");
            axes = Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        }
        return b.Unsqueeze(g, axes.Select(a => a < 0 ? a + rank : a).OrderBy(a => a).ToArray());
    }

    static Func<string>?[] ReduceSumVjp(NodeProto n, string?[] g, GraphBuilder b) =>
        [() => b.Expand(KeepDims(n, g[0]!, b), b.Shape(n.Input[0])), null];

    static Func<string>?[] ReduceMeanVjp(NodeProto n, string?[] g, GraphBuilder b) =>
        [() =>
        {
            string x = n.Input[0];
            var type = b.TypeOf(x);
            string ratio = b.Div(b.Cast(b.Size(n.Output[0]), type), b.Cast(b.Size(x), type));
            return b.Mul(b.Expand(KeepDims(n, g[0]!, b), b.Shape(x)), ratio);
        }, null];

    static string SwapLastTwo(GraphBuilder b, string x, int rank)
    {
        var perm = Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        (perm[rank - 1], perm[rank - 2]) = (perm[rank - 2], perm[rank - 1]);
        return b.Transpose(x, perm);
    }

    // C = A @ B. dA = g @ B^T, dB = A^T @ g, each summed over broadcast batch axes. A 2-D weight applied to a batch
    // of rows folds the batch axes into one matrix product instead of a broadcast product and a reduction.
    static Func<string>?[] MatMulVjp(NodeProto n, string?[] g, GraphBuilder b)
    {
        string a = n.Input[0], w = n.Input[1], gy = g[0]!;
        int ra = b.RankOf(a, n), rb = b.RankOf(w, n);
        if (ra < 2 || rb < 2)
            throw new FacadeException($"{n.Describe()} multiplies a 1-D tensor; the MatMul rule supports operands of rank 2 or more.");
        Func<string> dA = () => b.SumToShapeOf(b.MatMul(gy, SwapLastTwo(b, w, rb)), a);
        Func<string> dB;
        if (rb == 2 && ra > 2)
        {
            dB = () =>
            {
                var wd = b.Info(w).Dims!;
                string k = wd[0].IsValue ? b.Ints(-1, wd[0].Value) : b.Concat(0, b.Ints(-1), b.ShapeSlice(w, 0, 1));
                string m = wd[1].IsValue ? b.Ints(-1, wd[1].Value) : b.Concat(0, b.Ints(-1), b.ShapeSlice(w, 1, 2));
                return b.MatMul(b.Transpose(b.Reshape(a, k), 1, 0), b.Reshape(gy, m));
            };
        }
        else
            dB = () => b.SumToShapeOf(b.MatMul(SwapLastTwo(b, a, ra), gy), w);
        return [dA, dB];
    }

    // Y = alpha * A' @ B' + beta * C with A' = transA ? A^T : A, B' likewise.
    static Func<string>?[] GemmVjp(NodeProto n, string?[] g, GraphBuilder b)
    {
        string a = n.Input[0], w = n.Input[1], gy = g[0]!;
        bool ta = n.GetInt("transA", 0) == 1, tb = n.GetInt("transB", 0) == 1;
        double alpha = n.GetFloat("alpha", 1f), beta = n.GetFloat("beta", 1f);
        string Scale(string t, double s) => s == 1 ? t : b.Mul(t, b.Scalar(s, gy));
        var result = new Func<string>?[n.Input.Count];
        result[0] = () => Scale(ta ? b.MatMul(tb ? b.Transpose(w, 1, 0) : w, b.Transpose(gy, 1, 0))
                                   : b.MatMul(gy, tb ? w : b.Transpose(w, 1, 0)), alpha);
        result[1] = () => Scale(tb ? b.MatMul(b.Transpose(gy, 1, 0), ta ? b.Transpose(a, 1, 0) : a)
                                   : b.MatMul(ta ? a : b.Transpose(a, 1, 0), gy), alpha);
        if (n.Input.Count > 2 && n.Input[2] != "") result[2] = () => Scale(b.SumToShapeOf(gy, n.Input[2], n.Output[0]), beta);
        return result;
    }

    static Func<string>?[] TransposeVjp(NodeProto n, string?[] g, GraphBuilder b)
    {
        return [() =>
        {
            long[] perm = n.GetInts("perm") ?? Enumerable.Range(0, b.RankOf(n.Input[0], n)).Reverse().Select(i => (long)i).ToArray();
            var inverse = new long[perm.Length];
            for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
            return b.Transpose(g[0]!, inverse);
        }];
    }

    static Func<string>?[] ConcatVjp(NodeProto n, string?[] g, GraphBuilder b)
    {
        long axis = n.GetInt("axis", 0);
        string[]? parts = null;
        string[] Parts()
        {
            if (parts != null) return parts;
            var sizes = n.Input.Select(x =>
            {
                var dims = b.Info(x).Dims;
                int rank = b.RankOf(x, n);
                int ax = (int)(axis < 0 ? axis + rank : axis);
                return dims![ax].IsValue ? b.Ints(dims[ax].Value)
                    : b.ShapeSlice(x, ax, ax + 1);
            }).ToArray();
            return parts = b.Split(g[0]!, axis, sizes);
        }
        return n.Input.Select((_, i) => (Func<string>?)(() => Parts()[i])).ToArray();
    }

    static Func<string>?[] SplitVjp(NodeProto n, string?[] g, GraphBuilder b) =>
        [() => b.Concat(n.GetInt("axis", 0), n.Output.Select((y, i) => g[i] ?? b.ZerosLike(y)).ToArray()), null];

    // Gather picks slices along an axis; its gradient scatters them back, adding where an index repeats. A scalar
    // index (the [CLS] position) needs no scatter: the gradient is the output gradient placed by a one-hot mask.
    static Func<string>?[] GatherVjp(NodeProto n, string?[] g, GraphBuilder b)
    {
        return [() =>
        {
            string data = n.Input[0], indices = n.Input[1], gy = g[0]!;
            int rank = b.RankOf(data, n);
            long axisAttr = n.GetInt("axis", 0);
            int axis = (int)(axisAttr < 0 ? axisAttr + rank : axisAttr);
            string dim = b.ShapeSlice(data, axis, axis + 1);
            var idxInfo = b.Info(indices);
            string normalized = b.Cast(b.Where(b.Op("Less", [indices, b.Scalar(0, idxInfo.ElementType)]),
                b.Add(indices, b.Cast(b.Reshape(dim, b.Ints()), idxInfo.ElementType)), indices), DataType.Int64);
            if (idxInfo.Rank == 0)
            {
                string mask = b.Cast(b.Equal(b.Positions(data, axis), normalized), b.TypeOf(gy));
                var shape = Enumerable.Repeat(1L, rank).ToArray();
                shape[axis] = -1;
                return b.Mul(b.Unsqueeze(gy, axis), b.Reshape(mask, b.Ints(shape)));
            }
            int q = b.RankOf(indices, n);
            // Move the gathered axis (data) and the index axes (gradient) to the front, scatter-add, move back.
            long[] dataPerm = [axis, .. Enumerable.Range(0, rank).Where(i => i != axis).Select(i => (long)i)];
            long[] gradPerm = [.. Enumerable.Range(axis, q).Select(i => (long)i), .. Enumerable.Range(0, axis).Select(i => (long)i),
                               .. Enumerable.Range(axis + q, rank - axis - 1).Select(i => (long)i)];
            string zeros = b.ZerosLike(axis == 0 ? data : b.Transpose(data, dataPerm));
            string updates = axis == 0 ? gy : b.Transpose(gy, gradPerm);
            string scattered = b.ScatterAddRows(zeros, normalized, updates);
            if (axis == 0) return scattered;
            var inverse = new long[rank];
            for (int i = 0; i < rank; i++) inverse[dataPerm[i]] = i;
            return b.Transpose(scattered, inverse);
        }, null];
    }

    // Slice with unit steps: the gradient is the output gradient padded with zeros back to the input's extent.
    static Func<string>?[] SliceVjp(NodeProto n, string?[] g, GraphBuilder b)
    {
        return [() =>
        {
            string x = n.Input[0];
            int rank = b.RankOf(x, n);
            long[]? starts = b.Info(n.Input[1]).KnownValues, ends = b.Info(n.Input[2]).KnownValues;
            long[]? axes = n.Input.Count > 3 && n.Input[3] != "" ? b.Info(n.Input[3]).KnownValues
                : starts == null ? null : Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
            long[]? steps = n.Input.Count > 4 && n.Input[4] != "" ? b.Info(n.Input[4]).KnownValues : null;
            if (starts == null || ends == null || axes == null || (steps != null && steps.Any(s => s != 1)))
                throw new FacadeException($"{n.Describe()}: the Slice rule needs constant starts, ends and axes and unit steps.");
            var begin = Enumerable.Repeat(b.Ints(0), rank).ToArray();
            var end = Enumerable.Repeat(b.Ints(0), rank).ToArray();
            for (int k = 0; k < axes.Length; k++)
            {
                int a = (int)(axes[k] < 0 ? axes[k] + rank : axes[k]);
                string dim = b.ShapeSlice(x, a, a + 1);
                string Clamp(long v) => v >= 0 ? b.Min(b.Ints(v), dim) : b.Max(b.Add(b.Ints(v), dim), b.Ints(0));
                string s = Clamp(starts[k]);
                string e = b.Max(Clamp(ends[k]), s);
                begin[a] = s;
                end[a] = b.Sub(dim, e);
            }
            return b.Op("Pad", [g[0]!, b.Concat(0, [.. begin, .. end])]);
        }, null, null, null, null];
    }
}
