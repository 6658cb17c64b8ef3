using FacadeOnnx.Graph;
using FacadeOnnx.Graph.Tests;
using FacadeOnnx.Training.Model;
using TorchSharp;
using static TorchSharp.torch;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Training.Tests;

/// <summary>
/// Each vector-Jacobian rule against TorchSharp autograd for the same operation: the VJP the autodiff emits (run by
/// ONNX Runtime) equals torch.autograd.grad of the operator written in TorchSharp, for the same inputs and cotangent.
/// </summary>
[TestFixture]
public class VjpRuleTorchTests
{
    public static IEnumerable<TestCaseData> Cases() =>
        RuleCase.All().SelectMany(c => c.Wrt.Select(w => new TestCaseData(c, w).SetName($"VjpMatchesTorchAutograd({c.Name}, d/d{w})")));

    [TestCaseSource(nameof(Cases))]
    public void VjpMatchesTorchAutograd(RuleCase rule, string wrt)
    {
        TorchRuntime.Initialize();
        // Float64 on both sides: both compute the same formula up to rounding, so 1e-9 of the largest component.
        // Erf and Gelu run in float32 in ONNX Runtime: 1e-5 of the largest component covers float32 rounding.
        // LayerNormalization's Mean/InvStdDev outputs, which the rule reuses, are float32 in ONNX Runtime even for
        // float64 inputs (stash_type): 1e-6, a few float32 epsilons.
        bool exact = RuleHarness.SupportsDouble(rule);
        var type = exact ? DataType.Double : DataType.Float;
        double tolerance = !exact ? 1e-5 : rule.Op == "LayerNormalization" ? 1e-6 : 1e-9;
        var inputs = RuleHarness.Inputs(rule, wrt);

        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>();
        foreach (var input in rule.Inputs)
        {
            if (input.Ints != null) tensors[input.Name] = tensor(input.Ints, input.Shape);
            else if (input.Bools != null) tensors[input.Name] = tensor(input.Bools, input.Shape);
            else if (RuleCase.ScalarConstants.TryGetValue(input.Name, out double c)) tensors[input.Name] = tensor(c, float64);
            else tensors[input.Name] = tensor(inputs[input.Name], input.Shape).requires_grad_(input.Name == wrt);
        }
        var y = Apply(rule, tensors);
        var random = new Random(29);
        double[] v = Enumerable.Range(0, (int)y.numel()).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        var expected = autograd.grad([y], [tensors[wrt]], [tensor(v, y.shape)])[0].to_type(float64).data<double>().ToArray();

        double[] actual = RuleHarness.Vjp(rule, wrt, inputs, v, type);
        Assert.That(actual.Length, Is.EqualTo(expected.Length));
        double scale = Math.Max(1e-12, expected.Max(Math.Abs));
        for (int j = 0; j < actual.Length; j++)
            Assert.That(actual[j], Is.EqualTo(expected[j]).Within(tolerance * scale), $"element {j} of d/d{wrt}");
    }

    [Test]
    public void EveryRuleCaseHasATorchOperation()
    {
        foreach (var rule in RuleCase.All())
        {
            using var scope = NewDisposeScope();
            var tensors = rule.Inputs.ToDictionary(i => i.Name, i =>
                i.Ints != null ? tensor(i.Ints, i.Shape) : i.Bools != null ? tensor(i.Bools, i.Shape)
                : RuleCase.ScalarConstants.TryGetValue(i.Name, out double c) ? tensor(c, float64) : ones(i.Shape, float64).Times(0.7));
            Assert.DoesNotThrow(() => Apply(rule, tensors), rule.Name);
        }
    }

    static long Attr(RuleCase rule, string name, long fallback) => rule.Attrs.FirstOrDefault(a => a.Name == name)?.I ?? fallback;
    static float AttrF(RuleCase rule, string name, float fallback) => rule.Attrs.FirstOrDefault(a => a.Name == name)?.F ?? fallback;
    static long[] Ints(Tensor t) => t.data<long>().ToArray();

    /// <summary>The axes a Reduce* case names, or all of them when it names none.</summary>
    static long[] ReducedAxes(RuleCase rule, Tensor x) => rule.List("axes") ?? Enumerable.Range(0, (int)x.dim()).Select(i => (long)i).ToArray();

    /// <summary>
    /// Softmax or LogSoftmax with ONNX semantics: from opset 13 along one axis (default -1); before, over the input
    /// coerced to 2-D at axis (default 1), i.e. over the whole block of axes from axis on.
    /// </summary>
    static Tensor Normalized(RuleCase rule, Tensor x, Func<Tensor, long, Tensor> normalize)
    {
        if (rule.Opset >= 13) return normalize(x, Attr(rule, "axis", -1));
        long axis = Attr(rule, "axis", 1);
        if (axis < 0) axis += x.dim();
        long rows = x.shape[..(int)axis].Aggregate(1L, (p, d) => p * d);
        return normalize(x.reshape(rows, -1), 1).reshape(x.shape);
    }

    /// <summary>The case's operator in TorchSharp (ONNX semantics: broadcasting, attributes, negative indices).</summary>
    static Tensor Apply(RuleCase rule, Dictionary<string, Tensor> t)
    {
        var x = rule.Inputs.Select(i => t[i.Name]).ToArray();
        switch (rule.Op)
        {
            case "Identity": case "Dropout": return x[0].alias();
            case "Cast": return x[0].to_type(float64);
            case "Neg": return -x[0];
            case "Add": return x[0] + x[1];
            case "Sub": return x[0] - x[1];
            case "Mul": return x[0] * x[1];
            case "Div": return x[0] / x[1];
            case "Sum": return x[0] + x[1] + x[2];
            case "Expand": return x[0].expand(Ints(x[1]));
            case "Exp": return x[0].exp();
            case "Tanh": return x[0].tanh();
            case "Sigmoid": return x[0].sigmoid();
            case "Sqrt": return x[0].sqrt();
            case "Log": return x[0].log();
            case "Reciprocal": return x[0].reciprocal();
            case "Relu": return nn.functional.relu(x[0]);
            case "Erf": return x[0].erf();
            case "Gelu": return nn.functional.gelu(x[0]);
            case "Pow":
            {
                using var exponent = x[1].item<double>().ToScalar();
                return x[0].pow(exponent);
            }
            case "Softmax": return Normalized(rule, x[0], (t, axis) => t.softmax(axis));
            case "LogSoftmax": return Normalized(rule, x[0], (t, axis) => t.log_softmax(axis));
            case "LayerNormalization":
            {
                long axis = Attr(rule, "axis", -1);
                int rank = (int)x[0].dim();
                long[] normalized = x[0].shape[(int)(axis < 0 ? axis + rank : axis)..];
                return nn.functional.layer_norm(x[0], normalized, x[1], x.Length > 2 ? x[2] : null, AttrF(rule, "epsilon", 1e-5f));
            }
            case "ReduceMean": return x[0].mean(ReducedAxes(rule, x[0]), keepdim: Attr(rule, "keepdims", 1) == 1);
            case "ReduceSum": return x[0].sum(ReducedAxes(rule, x[0]), keepdim: Attr(rule, "keepdims", 1) == 1);
            case "MatMul": return x[0].matmul(x[1]);
            case "Gemm":
            {
                var a = Attr(rule, "transA", 0) == 1 ? x[0].t() : x[0];
                var b = Attr(rule, "transB", 0) == 1 ? x[1].t() : x[1];
                return a.matmul(b).Times(AttrF(rule, "alpha", 1f)) + x[2].Times(AttrF(rule, "beta", 1f));
            }
            case "Reshape": return x[0].reshape(Ints(x[1]));
            case "Flatten":
            {
                long axis = Attr(rule, "axis", 1);
                long rows = x[0].shape[..(int)axis].Aggregate(1L, (p, d) => p * d);
                return x[0].reshape(rows, -1);
            }
            case "Unsqueeze": return x[0].unsqueeze(rule.List("axes")![0]);
            case "Squeeze": return x[0].squeeze(rule.List("axes")![0]);
            case "Transpose": return x[0].permute(rule.Attrs.First(a => a.Name == "perm").Ints.ToArray());
            case "Concat": return cat([x[0], x[1]], Attr(rule, "axis", 0));
            case "Split": return x[0].split(rule.List("split")!, Attr(rule, "axis", 0))[0];
            case "Gather":
            {
                long axis = Attr(rule, "axis", 0);
                var indices = x[1];
                if (indices.dim() == 0) return x[0].select(axis, indices.item<long>());
                var normalized = indices.where(indices.GreaterThan(-1), indices.Plus(x[0].shape[axis]));
                var picked = x[0].index_select(axis, normalized.flatten());
                var shape = x[0].shape.ToList();
                shape.RemoveAt((int)axis);
                shape.InsertRange((int)axis, indices.shape);
                return picked.reshape(shape.ToArray());
            }
            case "Slice":
            {
                long start = Ints(x[1])[0], end = Ints(x[2])[0], axis = Ints(x[3])[0];
                long size = x[0].shape[axis];
                long s = start < 0 ? start + size : start, e = end < 0 ? end + size : end;
                return x[0].narrow(axis, s, e - s);
            }
            case "Where": return where(x[0], x[1], x[2]);
            default: throw new NotSupportedException($"No TorchSharp operation for {rule.Op}.");
        }
    }
}
