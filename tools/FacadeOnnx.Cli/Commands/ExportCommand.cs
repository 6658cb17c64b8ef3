using System.CommandLine;
using FacadeOnnx.Graph;
using FacadeOnnx.Graph.Building;
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
                          "inputs_embeds_grad (the gradient of each example's cross-entropy at target, -1 = own prediction). SQuAD span " +
                          "models: input target_span [batch, 2] instead of target, outputs start_logits and end_logits (masked to the " +
                          "context), and the gradient of the span loss (CE(start) + CE(end)) / 2 at target_span (-1 = own best span).",
        };
        var opset = new Option<int>("--opset")
        {
            Description = $"ai.onnx opset to write, {OpsetForms.Oldest} to {OpsetForms.Newest}. Below 17 LayerNormalization, and below 20 " +
                          "Gelu, are written out in elementary operators; the gradient graph uses the same opset.",
            DefaultValueFactory = _ => GraphBuilder.DefaultOpset,
        };
        var unpruned = new Option<bool>("--no-prune-last-layer")
        {
            Description = "Compute the last layer on every position, as exports before pruning did. By default a classifier's last layer " +
                          "runs its queries, attention output and feed-forward block on the [CLS] row only (the only row the " +
                          "classifier reads; keys and values still see every position): same outputs and gradients, less work. " +
                          "Kept for comparison (facade bench times both).",
        };
        var command = new Command("export",
            "Export a trained checkpoint to ONNX (opset 21 unless --opset says otherwise, standard operators only). Without --gradients the file maps " +
            "input_ids, attention_mask, token_type_ids to logits; with it, the file also computes gradients with respect to the " +
            "word embeddings, so stock ONNX Runtime runs saliency methods. Both carry metadata (task, labels, vocabulary and its " +
            "hash, embedding initializer, provenance).\n\nExample: facade export --model models/sst2-target --out models/sst2-target.onnx --gradients")
        { model, output, gradients, opset, unpruned };
        command.SetAction(parse => CliRunner.Run(() =>
        {
            string folder = parse.GetValue(model)!, path = parse.GetValue(output)!;
            var (classifier, manifest) = Checkpoint.Load(folder);
            var options = new ExportOptions { Opset = parse.GetValue(opset), PruneLastLayer = !parse.GetValue(unpruned) };
            var onnx = parse.GetValue(gradients)
                ? BertOnnxExporter.Gradient(classifier, manifest, folder, options)
                : BertOnnxExporter.Forward(classifier, manifest, folder, options);
            OnnxFile.Write(onnx, path);
            Console.WriteLine($"Wrote {path} ({new FileInfo(path).Length / 1e6:F1} MB, {onnx.Graph.Node.Count} nodes): " +
                              $"inputs {string.Join(", ", onnx.Graph.Input.Select(i => i.Name))}; outputs {string.Join(", ", onnx.Graph.Output.Select(o => o.Name))}");
            return 0;
        }));
        return command;
    }
}
