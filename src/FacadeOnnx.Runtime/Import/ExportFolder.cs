using System.Text.Json;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Import;

/// <summary>
/// A Hugging Face export folder in the Optimum layout, read as such: <c>model.onnx</c>; <c>config.json</c> with
/// <c>id2label</c> and <c>max_position_embeddings</c>; the tokenizer as <c>vocab.txt</c> or <c>tokenizer.json</c>;
/// <c>tokenizer_config.json</c> with <c>do_lower_case</c>. Options given on the command line override what it says.
/// </summary>
public static class ExportFolder
{
    public static ImportRequest Read(string folder, bool? lowerCase = null)
    {
        string dir = Path.GetFullPath(folder);
        if (!Directory.Exists(dir)) throw new FacadeException($"Export folder '{dir}' does not exist.");
        string onnx = File.Exists(Path.Combine(dir, "model.onnx")) ? Path.Combine(dir, "model.onnx")
            : Directory.GetFiles(dir, "*.onnx") is [string only] ? only
            : throw new FacadeException($"'{dir}' has no model.onnx{(Directory.GetFiles(dir, "*.onnx").Length > 1 ? " and several other .onnx files" : "")}; " +
                                        "give the model with --onnx and its tokenizer with --vocab or --tokenizer instead.");
        var config = Json(Path.Combine(dir, "config.json"), required: true)!.Value;
        var tokenizerConfig = Json(Path.Combine(dir, "tokenizer_config.json"), required: false);
        lowerCase ??= tokenizerConfig is { } tc && tc.TryGetProperty("do_lower_case", out var lc) && lc.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? lc.GetBoolean() : null;
        string vocab = Path.Combine(dir, "vocab.txt"), tokenizerJson = Path.Combine(dir, "tokenizer.json");
        var tokenizer = File.Exists(vocab) ? WordPieceTokenizer.FromVocabFile(vocab, lowerCase ?? true)
            : File.Exists(tokenizerJson) ? TokenizerJson.Read(tokenizerJson, lowerCase)
            : throw new FacadeException($"'{dir}' has neither vocab.txt nor tokenizer.json; the model cannot be tokenized without one.");
        return new ImportRequest
        {
            OnnxPath = onnx,
            Tokenizer = tokenizer,
            Labels = Labels(config, Path.Combine(dir, "config.json")),
            MaxPositions = config.TryGetProperty("max_position_embeddings", out var p) && p.TryGetInt32(out int positions) ? positions : null,
            Source = dir,
        };
    }

    /// <summary>The label names of <c>id2label</c> in logit order; null when the config has none.</summary>
    static string[]? Labels(JsonElement config, string path)
    {
        if (!config.TryGetProperty("id2label", out var map) || map.ValueKind != JsonValueKind.Object) return null;
        var entries = new SortedDictionary<int, string>();
        foreach (var entry in map.EnumerateObject())
        {
            if (!int.TryParse(entry.Name, out int id) || id < 0)
                throw new FacadeException($"'{path}': id2label has the key '{entry.Name}'; expected label indices 0, 1, ...");
            entries[id] = entry.Value.GetString() ?? "";
        }
        if (entries.Keys.Select((k, i) => k != i).Any(gap => gap))
            throw new FacadeException($"'{path}': id2label's indices are {string.Join(", ", entries.Keys)}; expected 0 to {entries.Count - 1} without gaps.");
        return entries.Values.ToArray();
    }

    static JsonElement? Json(string path, bool required)
    {
        if (!File.Exists(path))
            return required ? throw new FacadeException($"'{path}' does not exist; an export folder holds the model's config.json beside model.onnx.") : null;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone()
                : throw new FacadeException($"'{path}' holds a JSON {document.RootElement.ValueKind}; expected an object.");
        }
        catch (JsonException e)
        {
            throw new FacadeException($"'{path}' is not valid JSON (line {e.LineNumber + 1}): {e.Message}", e);
        }
    }
}
