using System.CommandLine;
using FacadeOnnx.Graph.Autodiff;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade export-grad`: append a gradient graph to a foreign ONNX model.</summary>
public static class ExportGradCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--onnx") { Description = "The ONNX model to differentiate (ai.onnx opset 11 to 21, float, standard operators).", Required = true };
        var output = new Option<string>("--out") { Description = "ONNX file to write (atomically).", Required = true };
        var wrt = new Option<string>("--wrt")
        {
            Description = "Tensor to differentiate with respect to; the graph is cut there and it becomes an input " +
                          "(typically the output of the word-embedding Gather).",
            Required = true,
        };
        var objective = new Option<string?>("--objective") { Description = "ce: cross-entropy at a new int64 'target' input (-1 = own argmax)." };
        objective.AcceptOnlyFromAmong("ce");
        var logits = new Option<string?>("--logits") { Description = "With --objective ce: the [batch, classes] logits tensor." };
        var vjp = new Option<string?>("--vjp") { Description = "A float output: adds an input '<output>_cotangent' and outputs its vector-Jacobian product." };
        var command = new Command("export-grad",
            "Add a backward pass to any ONNX model built from supported operators, as standard ONNX operators that stock ONNX " +
            "Runtime runs. The model may use opset 11 or newer (up to 21); the backward nodes are written at the model's own opset. " +
            "Graphs fused by ONNX Runtime's transformer optimizer and quantized graphs are refused: export the float model " +
            "without the optimizations. The result has a new output '<wrt>_grad'.\n\n" +
            "Examples:\n  facade export-grad --onnx model.onnx --out model-grad.onnx --wrt 131 --vjp last_hidden_state\n" +
            "  facade export-grad --onnx classifier.onnx --out classifier-grad.onnx --wrt embeddings_out --objective ce --logits logits")
        { input, output, wrt, objective, logits, vjp };
        command.SetAction(parse => CliRunner.Run(() =>
        {
            string? ce = parse.GetValue(objective), logitsName = parse.GetValue(logits), vjpOutput = parse.GetValue(vjp);
            GradientObjective goal = (ce, vjpOutput) switch
            {
                ("ce", null) => new GradientObjective.CrossEntropy(logitsName ?? throw new FacadeException("--objective ce needs --logits NAME (the [batch, classes] logits tensor).")),
                (null, string o) => new GradientObjective.VectorJacobian(o),
                (null, null) => throw new FacadeException("Choose what to differentiate: --objective ce --logits NAME, or --vjp OUTPUT."),
                _ => throw new FacadeException("--objective ce and --vjp are alternatives; give one of them."),
            };
            var result = GradientExport.ApplyToFile(parse.GetValue(input)!, parse.GetValue(output)!, parse.GetValue(wrt)!, goal);
            Console.WriteLine($"Wrote {parse.GetValue(output)}: gradient output '{result.GradientOutput}'" +
                              (result.AddedInputs.Count > 0 ? $", new inputs {string.Join(", ", result.AddedInputs)}" : "") + ".");
            return 0;
        }));
        return command;
    }
}
