using System.CommandLine;
using FacadeOnnx.Runtime.Import;
using FacadeOnnx.Text;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade import`: a classifier someone else exported becomes a gradient model the engine runs.</summary>
public static class ImportCommand
{
    public static Command Create()
    {
        var from = new Option<string?>("--from") { Description = "An export folder in the Optimum layout: model.onnx, config.json (id2label, max_position_embeddings), vocab.txt or tokenizer.json, tokenizer_config.json (do_lower_case)." };
        var onnx = new Option<string?>("--onnx") { Description = "A bare ONNX classifier (input_ids [, attention_mask, token_type_ids] to [batch, classes] logits), opset 11 to 21." };
        var vocab = new Option<string?>("--vocab") { Description = "With --onnx: the WordPiece vocabulary (vocab.txt, one entry a line); not needed for files that embed theirs (our own exports)." };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "With --onnx: a Hugging Face tokenizer.json (WordPiece) instead of --vocab." };
        var labels = new Option<string?>("--labels") { Description = "Label names in logit order, comma-separated (default: config.json's id2label, or the file's own metadata)." };
        var output = new Option<string>("--out") { Description = "Gradient model to write (atomically; checked by running it once before it is written).", Required = true };
        var cased = new Option<bool>("--cased") { Description = "The model's tokenizer keeps case and accents (do_lower_case false); by default the folder's tokenizer files decide, else lower case." };
        var pair = new Option<bool>("--pair") { Description = "The model reads a pair of texts ([CLS] a [SEP] b [SEP]), as NLI models do." };
        var task = new Option<string?>("--task") { Description = "Recorded as the model's task; a shipped task name (sst2, snli) lets `facade audit --task` use its data." };
        var maxPositions = new Option<int?>("--max-positions") { Description = "Positions the model reads (default: config.json, else the rows of its position-embedding table)." };
        var maxLength = new Option<int?>("--max-length") { Description = "Longest input to feed it, in word pieces (default: --max-positions)." };
        var wrt = new Option<string?>("--wrt") { Description = "The word-embedding lookup's output to differentiate at, when the structural search cannot tell." };
        var logits = new Option<string?>("--logits") { Description = "The [batch, classes] logits output, when the model has several float outputs." };
        var idsInput = new Option<string>("--ids-input") { Description = "The graph input holding token ids.", DefaultValueFactory = _ => "input_ids" };
        var command = new Command("import",
            "Turn a text classifier someone else exported (Hugging Face through Optimum or torch.onnx, opset 11 to 21) into a " +
            "FacadeOnnx gradient model, with no training code involved. The word-embedding Gather is found by the graph's " +
            "structure, the graph is cut there, and the gradient of each example's cross-entropy with respect to the embeddings " +
            "is appended in standard ONNX operators. The result works with explain, attack, audit and bench.\n\n" +
            "Examples:\n" +
            "  facade import --from exports/distilbert-sst2 --out models/distilbert-sst2.grad.onnx\n" +
            "  facade import --onnx model.onnx --vocab vocab.txt --labels negative,positive --out model.grad.onnx\n" +
            "  facade import --onnx nli.onnx --tokenizer tokenizer.json --labels entailment,neutral,contradiction --pair --out nli.grad.onnx")
        { from, onnx, vocab, tokenizer, labels, output, cased, pair, task, maxPositions, maxLength, wrt, logits, idsInput };
        command.SetAction(parse => CliRunner.Run(() =>
        {
            string? folder = parse.GetValue(from), file = parse.GetValue(onnx), vocabPath = parse.GetValue(vocab), tokenizerPath = parse.GetValue(tokenizer);
            bool? lowerCase = parse.GetValue(cased) ? false : null;
            ImportRequest request = (folder, file) switch
            {
                (string dir, null) when vocabPath is null && tokenizerPath is null => ExportFolder.Read(dir, lowerCase),
                (string, null) => throw new FacadeException("--from reads the tokenizer from the folder; --vocab and --tokenizer go with --onnx."),
                (null, string path) => new ImportRequest
                {
                    OnnxPath = path,
                    Tokenizer = (vocabPath, tokenizerPath) switch
                    {
                        (string v, null) => WordPieceTokenizer.FromVocabFile(v, lowerCase ?? true),
                        (null, string t) => TokenizerJson.Read(t, lowerCase),
                        (null, null) => null, // the file's own embedded vocabulary, or a clear error
                        _ => throw new FacadeException("--vocab and --tokenizer are alternatives; give one of them."),
                    },
                },
                (null, null) => throw new FacadeException("Say what to import: --from EXPORT_DIR, or --onnx MODEL.onnx with --vocab or --tokenizer."),
                _ => throw new FacadeException("--from and --onnx are alternatives; give one of them."),
            };
            request = request with
            {
                Labels = parse.GetValue(labels) is string list ? list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : request.Labels,
                TextPair = parse.GetValue(pair),
                Task = parse.GetValue(task) ?? request.Task,
                MaxPositions = parse.GetValue(maxPositions) ?? request.MaxPositions,
                MaxLength = parse.GetValue(maxLength),
                Wrt = parse.GetValue(wrt),
                Logits = parse.GetValue(logits),
                IdsInput = parse.GetValue(idsInput)!,
            };
            var result = ModelImport.ToFile(request, parse.GetValue(output)!);
            Console.WriteLine($"Imported {request.OnnxPath} (opset {result.Opset}, sha256 {result.SourceSha256[..12]}…)");
            Console.WriteLine($"  word embeddings: Gather '{result.Lookup.Node.Name}' of '{result.Lookup.Matrix}' [{result.Lookup.Rows}x{result.Lookup.Hidden}], indexed by '{result.Lookup.IdsInput}'");
            Console.WriteLine($"  logits: '{result.LogitsOutput}' -> labels {string.Join(", ", result.Labels)}; {result.MaxPositions} positions; " +
                              $"{(result.LowerCase ? "lower-cased" : "cased")} {(request.TextPair ? "text pairs" : "single texts")}");
            Console.WriteLine($"  inputs fed: {string.Join(", ", result.Inputs)}");
            Console.WriteLine($"Wrote {result.Output}");
            return 0;
        }));
        return command;
    }
}
