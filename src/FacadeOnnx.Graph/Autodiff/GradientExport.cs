using FacadeOnnx.Graph.Building;
using FacadeOnnx.Graph.Contract;
using Onnx;

namespace FacadeOnnx.Graph.Autodiff;

/// <summary>What `facade export-grad` appends to a foreign model.</summary>
public abstract record GradientObjective
{
    /// <summary>Cross-entropy at a <c>target</c> input (-1: own argmax) of a [batch, classes] logits tensor.</summary>
    public sealed record CrossEntropy(string Logits) : GradientObjective;

    /// <summary>The vector-Jacobian product of a float output, given a cotangent input shaped like it.</summary>
    public sealed record VectorJacobian(string Output) : GradientObjective;
}

/// <summary>Adds a gradient graph to any ONNX model built from supported operators (`facade export-grad`).</summary>
public static class GradientExport
{
    public static GradientGraph Apply(ModelProto model, string wrt, GradientObjective objective)
    {
        OpsetForms.RequireSupported(OpsetForms.Of(model), $"The model (graph '{model.Graph.Name}')");
        // Before the cut, so a fused or quantized embedding lookup is reported rather than a missing tensor.
        string objectiveTensor = objective switch
        {
            GradientObjective.CrossEntropy ce => ce.Logits,
            GradientObjective.VectorJacobian vjp => vjp.Output,
            _ => throw new ArgumentOutOfRangeException(nameof(objective)),
        };
        DifferentiabilityCheck.ThrowIfUnsupported(new GraphBuilder(model), wrt, objectiveTensor);
        ReverseMode.Cut(model, wrt);
        var result = objective switch
        {
            GradientObjective.CrossEntropy ce => ReverseMode.AppendCrossEntropyGradient(model, wrt, ce.Logits),
            GradientObjective.VectorJacobian vjp => ReverseMode.AppendVjp(model, wrt, vjp.Output),
            _ => throw new ArgumentOutOfRangeException(nameof(objective)),
        };
        model.Set(GradientModelContract.Keys.Format, objective is GradientObjective.CrossEntropy ? "gradient-ce" : "gradient-vjp");
        model.Set(GradientModelContract.Keys.Gradient, objective is GradientObjective.CrossEntropy ce2
            ? $"d/d({wrt}) of each example's cross-entropy of softmax({ce2.Logits}) at input 'target' (-1: own argmax), summed over the batch"
            : $"vector-Jacobian product: d/d({wrt}) of sum({((GradientObjective.VectorJacobian)objective).Output} * {((GradientObjective.VectorJacobian)objective).Output}_cotangent)");
        model.Set(GradientModelContract.Keys.Producer, $"FacadeOnnx export-grad {typeof(GradientExport).Assembly.GetName().Version}");
        return result;
    }

    public static GradientGraph ApplyToFile(string input, string output, string wrt, GradientObjective objective)
    {
        var model = OnnxFile.Read(input);
        var result = Apply(model, wrt, objective);
        OnnxFile.Write(model, output);
        return result;
    }
}
