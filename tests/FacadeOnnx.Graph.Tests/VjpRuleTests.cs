using FacadeOnnx.Graph.Autodiff;
using Microsoft.ML.OnnxRuntime;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Graph.Tests;

/// <summary>
/// Each vector-Jacobian rule against central finite differences of the forward operator, both run by ONNX Runtime:
/// for a random cotangent v, d(v . f(x))/dx_j from the emitted backward graph must match
/// (v . f(x + h e_j) - v . f(x - h e_j)) / 2h for every element j of the input.
/// </summary>
[TestFixture]
public class VjpRuleTests
{
    public static IEnumerable<TestCaseData> Cases() =>
        RuleCase.All().SelectMany(c => c.Wrt.Select(w => new TestCaseData(c, w).SetName($"VjpMatchesFiniteDifferences({c.Name}, d/d{w})")));

    [TestCaseSource(nameof(Cases))]
    public void VjpMatchesFiniteDifferences(RuleCase rule, string wrt)
    {
        // Float64 wherever ONNX Runtime has a double kernel: h = 1e-6 leaves truncation error ~1e-12 and rounding
        // ~1e-10, so 1e-6 relative is a strict bound. Operators with float32 kernels only (Erf, Gelu in ORT) use
        // h = 1e-2: truncation ~h^2 * f''' ~1e-4 and rounding ~eps32/h ~1e-5, so 2e-3 of the largest gradient.
        var (type, tolerance, h) = SupportsDouble(rule) ? (DataType.Double, 1e-6, 1e-6) : (DataType.Float, 2e-3, 1e-2);
        var forwardModel = rule.Build(type);
        string output = forwardModel.Graph.Output[0].Name;
        var gradModel = rule.Build(type);
        var grad = ReverseMode.AppendVjp(gradModel, wrt, output);

        var random = new Random(rule.Name.GetHashCode() ^ wrt.GetHashCode());
        var inputs = rule.Inputs.Where(i => !i.IsConstant && !RuleCase.ScalarConstants.ContainsKey(i.Name))
            .ToDictionary(i => i.Name, i => Sample(i, random));
        using var forward = new OrtHarness(forwardModel);
        using var backward = new OrtHarness(gradModel);

        var y = forward.Run(Wrap(inputs, type), output)[output];
        double[] v = y.Select(_ => random.NextDouble() * 2 - 1).ToArray();
        var outShape = OutputShape(forwardModel, output, y.Length);
        var withCotangent = new Dictionary<string, double[]>(inputs) { [output + "_cotangent"] = v };
        var shapes = rule.Inputs.ToDictionary(i => i.Name, i => i.Shape);
        shapes[output + "_cotangent"] = outShape;
        double[] analytic = backward.Run(Wrap(withCotangent, type, shapes), grad.GradientOutput)[grad.GradientOutput];

        double[] x = inputs[wrt];
        Assert.That(analytic.Length, Is.EqualTo(x.Length), "gradient has the shape of the input");
        var numeric = new double[x.Length];
        for (int j = 0; j < x.Length; j++)
        {
            double keep = x[j];
            x[j] = keep + h;
            double plus = Dot(v, forward.Run(Wrap(inputs, type), output)[output]);
            x[j] = keep - h;
            double minus = Dot(v, forward.Run(Wrap(inputs, type), output)[output]);
            x[j] = keep;
            numeric[j] = (plus - minus) / (2 * h);
        }
        double scale = Math.Max(1e-3, numeric.Max(Math.Abs));
        for (int j = 0; j < x.Length; j++)
            Assert.That(analytic[j], Is.EqualTo(numeric[j]).Within(tolerance * scale), $"element {j} of d/d{wrt}");
    }

    [Test]
    public void EveryRuleHasAFiniteDifferenceCase()
    {
        var covered = RuleCase.All().Select(c => c.Op).ToHashSet();
        Assert.That(VjpRules.All.Keys.Where(k => !covered.Contains(k)), Is.Empty);
    }

    static bool SupportsDouble(RuleCase rule) => rule.Op is not ("Erf" or "Gelu");

    static double[] Sample(CaseInput input, Random random)
    {
        long n = input.Shape.Aggregate(1L, (a, d) => a * d);
        var values = new double[n];
        for (int i = 0; i < n; i++)
        {
            double u = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            values[i] = input.Fill switch
            {
                Fill.Positive => 0.5 + Math.Abs(u),
                Fill.Away => Math.Sign(u == 0 ? 1 : u) * (0.3 + Math.Abs(u)),
                _ => u,
            };
        }
        return values;
    }

    static Dictionary<string, OrtHarness.Value> Wrap(Dictionary<string, double[]> inputs, DataType type, Dictionary<string, long[]>? shapes = null) =>
        inputs.ToDictionary(kv => kv.Key, kv =>
        {
            long[] shape = shapes?.GetValueOrDefault(kv.Key) ?? ShapeOf(kv.Key);
            return type == DataType.Double
                ? new OrtHarness.Value(kv.Value.ToArray(), shape)
                : new OrtHarness.Value(kv.Value.Select(d => (float)d).ToArray(), shape);
        });

    [ThreadStatic] static Dictionary<string, long[]>? _shapes;
    static long[] ShapeOf(string name) => _shapes![name];

    [SetUp]
    public void RememberShapes()
    {
        var current = TestContext.CurrentContext.Test.Arguments;
        _shapes = current.Length > 0 && current[0] is RuleCase rc ? rc.Inputs.ToDictionary(i => i.Name, i => i.Shape) : new();
    }

    static long[] OutputShape(Onnx.ModelProto model, string output, int count)
    {
        var b = new Building.GraphBuilder(model);
        var dims = b.Info(output).Dims!;
        Assert.That(dims.All(d => d.IsValue), $"static output shape of {output}");
        return dims.Select(d => d.Value).ToArray();
    }

    static double Dot(double[] a, double[] b) => a.Zip(b, (p, q) => p * q).Sum();
}
