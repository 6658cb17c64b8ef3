using FacadeOnnx.Graph.Building;
using Onnx;

namespace FacadeOnnx.Graph.Checking;

/// <summary>
/// Structural checks that catch what ONNX Runtime would reject, with messages that name the node: tensors read
/// before (or without) being produced, tensors produced twice, operators outside the standard domain, operators or
/// forms (axes as attribute or input) the model's opset does not have, graph outputs that nothing produces, missing
/// opset imports.
/// </summary>
public static class ModelChecker
{
    public static IReadOnlyList<string> Check(ModelProto model)
    {
        var problems = new List<string>();
        var graph = model.Graph;
        if (graph == null) return ["The model has no graph."];
        int opset = OpsetForms.Of(model);
        if (opset == 0)
            problems.Add("The model imports no ai.onnx opset.");

        var available = new HashSet<string>();
        var producedBy = new Dictionary<string, string>();
        foreach (var init in graph.Initializer)
            if (!available.Add(init.Name)) problems.Add($"Initializer '{init.Name}' is defined twice.");
        foreach (var input in graph.Input) available.Add(input.Name);

        foreach (var node in graph.Node)
        {
            if (node.Domain is not ("" or "ai.onnx"))
                problems.Add($"{node.Describe()} is in domain '{node.Domain}'; only standard ai.onnx operators are allowed.");
            else if (!StandardOperators.Names.Contains(node.OpType))
                problems.Add($"{node.Describe()} uses unknown operator '{node.OpType}'; it is not an ai.onnx operator.");
            else if (opset > 0 && OpsetForms.Misfit(node, opset) is { } misfit)
                problems.Add(misfit);
            foreach (var input in node.Input)
                if (input != "" && !available.Contains(input))
                    problems.Add($"{node.Describe()} reads '{input}', which no graph input, initializer or earlier node produces.");
            foreach (var output in node.Output)
            {
                if (output == "") continue;
                if (producedBy.TryGetValue(output, out var other))
                    problems.Add($"{node.Describe()} writes '{output}', which {other} already produces.");
                else if (available.Contains(output))
                    problems.Add($"{node.Describe()} writes '{output}', which is already a graph input or initializer.");
                producedBy[output] = node.Describe();
                available.Add(output);
            }
        }
        var outputNames = new HashSet<string>();
        foreach (var output in graph.Output)
        {
            if (!available.Contains(output.Name)) problems.Add($"Graph output '{output.Name}' is not produced by any node or input.");
            if (!outputNames.Add(output.Name)) problems.Add($"Graph output '{output.Name}' is listed twice.");
        }
        return problems;
    }

    public static void ThrowIfInvalid(ModelProto model)
    {
        var problems = Check(model);
        if (problems.Count > 0)
            throw new FacadeException($"The ONNX graph '{model.Graph?.Name}' is invalid:\n  " + string.Join("\n  ", problems.Take(20)) +
                                      (problems.Count > 20 ? $"\n  ... and {problems.Count - 20} more" : ""));
    }
}
