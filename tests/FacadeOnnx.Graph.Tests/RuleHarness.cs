using FacadeOnnx.Graph.Autodiff;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Graph.Tests;

/// <summary>Runs a <see cref="RuleCase"/> through ONNX Runtime: its forward output, and its VJP from the emitted backward graph.</summary>
public static class RuleHarness
{
    /// <summary>ONNX Runtime has float64 kernels for every operator here except Erf and Gelu.</summary>
    public static bool SupportsDouble(RuleCase rule) => rule.Op is not ("Erf" or "Gelu");

    /// <summary>Random values for the non-constant inputs of a case (seeded by the case and the input differentiated).</summary>
    public static Dictionary<string, double[]> Inputs(RuleCase rule, string wrt)
    {
        var random = new Random(rule.Name.GetHashCode() ^ wrt.GetHashCode());
        return rule.Inputs.Where(i => !i.IsConstant && !RuleCase.ScalarConstants.ContainsKey(i.Name)).ToDictionary(i => i.Name, i => Sample(i, random));
    }

    public static double[] Sample(CaseInput input, Random random)
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

    public static Dictionary<string, OrtHarness.Value> Wrap(Dictionary<string, double[]> inputs, DataType type, IReadOnlyDictionary<string, long[]> shapes) =>
        inputs.ToDictionary(kv => kv.Key, kv => type == DataType.Double
            ? new OrtHarness.Value(kv.Value.ToArray(), shapes[kv.Key])
            : new OrtHarness.Value(kv.Value.Select(d => (float)d).ToArray(), shapes[kv.Key]));

    public static Dictionary<string, long[]> Shapes(RuleCase rule) => rule.Inputs.ToDictionary(i => i.Name, i => i.Shape);

    /// <summary>The case's output shape, read from its graph with every input dimension declared as a number.</summary>
    public static long[] OutputShape(RuleCase rule, DataType type)
    {
        var model = rule.Static.Build(type);
        var dims = new Building.GraphBuilder(model).Info(model.Graph.Output[0].Name).Dims!;
        return dims.Select(d => d.Value).ToArray();
    }

    /// <summary>d(v . f)/d(wrt) from the backward graph the autodiff appends to the case.</summary>
    public static double[] Vjp(RuleCase rule, string wrt, Dictionary<string, double[]> inputs, double[] cotangent, DataType type)
    {
        var model = rule.Build(type);
        string output = model.Graph.Output[0].Name;
        var outShape = OutputShape(rule, type);
        var grad = ReverseMode.AppendVjp(model, wrt, output);
        using var session = new OrtHarness(model);
        var shapes = Shapes(rule);
        shapes[output + "_cotangent"] = outShape;
        var all = new Dictionary<string, double[]>(inputs) { [output + "_cotangent"] = cotangent };
        return session.Run(Wrap(all, type, shapes), grad.GradientOutput)[grad.GradientOutput];
    }
}
