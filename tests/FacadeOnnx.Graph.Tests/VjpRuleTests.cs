using FacadeOnnx.Graph.Autodiff;
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
        var (type, tolerance, h) = RuleHarness.SupportsDouble(rule) ? (DataType.Double, 1e-6, 1e-6) : (DataType.Float, 2e-3, 1e-2);
        var forwardModel = rule.Build(type);
        string output = forwardModel.Graph.Output[0].Name;
        var inputs = RuleHarness.Inputs(rule, wrt);
        var shapes = RuleHarness.Shapes(rule);
        using var forward = new OrtHarness(forwardModel);
        double[] F() => forward.Run(RuleHarness.Wrap(inputs, type, shapes), output)[output];

        var random = new Random(17);
        double[] v = F().Select(_ => random.NextDouble() * 2 - 1).ToArray();
        double[] analytic = RuleHarness.Vjp(rule, wrt, inputs, v, type);

        double[] x = inputs[wrt];
        Assert.That(analytic.Length, Is.EqualTo(x.Length), "gradient has the shape of the input");
        var numeric = new double[x.Length];
        for (int j = 0; j < x.Length; j++)
        {
            double keep = x[j];
            x[j] = keep + h;
            double plus = Dot(v, F());
            x[j] = keep - h;
            double minus = Dot(v, F());
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

    [Test]
    public void EveryRuleWhoseSignatureChangedSinceOpset11HasAnOpset11Case()
    {
        string[] changed = ["Squeeze", "Unsqueeze", "ReduceSum", "ReduceMean", "Split", "Softmax", "LogSoftmax"];
        var covered = RuleCase.All().Where(c => c.Opset == 11).Select(c => c.Op).ToHashSet();
        Assert.That(changed.Where(op => !covered.Contains(op)), Is.Empty);
    }

    static double Dot(double[] a, double[] b) => a.Zip(b, (p, q) => p * q).Sum();
}
