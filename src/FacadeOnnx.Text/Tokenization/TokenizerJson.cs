using System.Text.Json;

namespace FacadeOnnx.Text;

/// <summary>
/// Reads the WordPiece vocabulary and casing out of a Hugging Face <c>tokenizer.json</c> (the fast-tokenizer file that
/// Optimum and <c>save_pretrained</c> write), so a model shipped without <c>vocab.txt</c> can still be tokenized here.
/// Only WordPiece models with the "##" continuation prefix are read; other kinds (byte-level BPE as in RoBERTa,
/// Unigram as in XLM-R) are refused by name, since our tokenizer would not reproduce their pieces.
/// </summary>
public static class TokenizerJson
{
    /// <summary>The tokenizer the file describes; <paramref name="lowerCase"/> overrides the file's own normalizer.</summary>
    public static WordPieceTokenizer Read(string path, bool? lowerCase = null)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FacadeException($"Tokenizer file '{full}' does not exist.");
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(full));
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new FacadeException($"'{full}' is not valid JSON (line {e.LineNumber + 1}): {e.Message}", e);
        }
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new FacadeException($"'{full}' has no \"model\" object; expected a Hugging Face tokenizer.json.");
        string type = model.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
        if (type != "WordPiece")
            throw new FacadeException($"'{full}' describes a {(type.Length == 0 ? "tokenizer of unknown kind" : type + " tokenizer")}; FacadeOnnx tokenizes " +
                                      "WordPiece (BERT-family) models only. Byte-level BPE (RoBERTa, GPT-2) and Unigram models are not supported yet.");
        string prefix = model.TryGetProperty("continuing_subword_prefix", out var p) ? p.GetString() ?? "##" : "##";
        if (prefix != "##")
            throw new FacadeException($"'{full}': the WordPiece continuation prefix is '{prefix}'; FacadeOnnx supports BERT's '##'.");
        if (!model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Object)
            throw new FacadeException($"'{full}': model.vocab is missing; expected an object from token to id.");

        var entries = vocab.EnumerateObject().Select(e => (Token: e.Name, Id: e.Value.GetInt32())).OrderBy(e => e.Id).ToList();
        for (int i = 0; i < entries.Count; i++)
            if (entries[i].Id != i)
                throw new FacadeException($"'{full}': the vocabulary ids are not 0..{entries.Count - 1} without gaps (id {i} is {(entries[i].Id > i ? "missing" : "repeated")}).");
        return WordPieceTokenizer.FromVocabText(string.Join("\n", entries.Select(e => e.Token)), full, lowerCase ?? LowerCase(root));
    }

    /// <summary>Whether the file's normalizer lower-cases (BertNormalizer's <c>lowercase</c>, or a Lowercase step).</summary>
    static bool LowerCase(JsonElement root)
    {
        if (!root.TryGetProperty("normalizer", out var normalizer) || normalizer.ValueKind != JsonValueKind.Object) return false;
        static bool Lowers(JsonElement n) => n.TryGetProperty("type", out var type) && type.GetString() switch
        {
            "BertNormalizer" => !n.TryGetProperty("lowercase", out var l) || l.ValueKind != JsonValueKind.False,
            "Lowercase" => true,
            "Sequence" => n.TryGetProperty("normalizers", out var list) && list.EnumerateArray().Any(Lowers),
            _ => false,
        };
        return Lowers(normalizer);
    }
}
