using System.CommandLine;
using FacadeOnnx.Graph;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Export;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade export`: a checkpoint to an ONNX forward model or gradient model.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Checkpoint folder (model.weights + manifest.json).", Required = true };
        var output = new Option<string>("--out") { Description = "ONNX file to write (atomically).", Required = true };
        var gradients = new Option<bool>("--gradients")
        {
            Description = "Write the gradient model: inputs inputs_embeds, attention_mask, token_type_ids, target; outputs logits and " +
                          "inputs_embeds_grad (the gradient of each example's cross-entropy at target, -1 = own prediction).",
        };
        var command = new Command("export",
            "Export a trained checkpoint to ONNX (opset 21, standard operators only). Without --gradients the file maps " +
            "input_ids, attention_mask, token_type_ids to logits; with it, the file also computes gradients with respect to the " +
            "word embeddings, so stock ONNX Runtime runs saliency methods. Both carry metadata (task, labels, vocabulary and its " +
            "hash, embedding initializer, provenance).\n\nExample: facade export --model models/sst2-target --out models/sst2-target.onnx --gradients")
        { model, output, gradients };
        command.SetAction(parse => CliRunner.Run(() =>
        {
            string folder = parse.GetValue(model)!, path = parse.GetValue(output)!;
            var (classifier, manifest) = Checkpoint.Load(folder);
            var onnx = parse.GetValue(gradients)
                ? BertOnnxExporter.Gradient(classifier, manifest, folder)
                : BertOnnxExporter.Forward(classifier, manifest, folder);
            OnnxFile.Write(onnx, path);
            Console.WriteLine($"Wrote {path} ({new FileInfo(path).Length / 1e6:F1} MB, {onnx.Graph.Node.Count} nodes): " +
                              $"inputs {string.Join(", ", onnx.Graph.Input.Select(i => i.Name))}; outputs {string.Join(", ", onnx.Graph.Output.Select(o => o.Name))}");
            return 0;
        }));
        return command;
    }
}
