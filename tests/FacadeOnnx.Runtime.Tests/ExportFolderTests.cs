using System.Text.Json;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Import;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Tests;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>
/// An export folder in the Optimum layout (model.onnx, config.json, tokenizer.json, tokenizer_config.json), written
/// here around our own forward export, read by `facade import --from` without any other option.
/// </summary>
[TestFixture]
public class ExportFolderTests
{
    static string MakeFolder(string name, bool withVocabTxt, bool lowerCase = true)
    {
        string dir = Path.Combine(AuditModels.Folder, name);
        Directory.CreateDirectory(dir);
        File.Copy(AuditModels.ForwardPathOf("target-a"), Path.Combine(dir, "model.onnx"), overwrite: true);
        File.WriteAllText(Path.Combine(dir, "config.json"), JsonSerializer.Serialize(new
        {
            architectures = new[] { "BertForSequenceClassification" },
            id2label = new Dictionary<string, string> { ["1"] = "POSITIVE", ["0"] = "NEGATIVE" },
            max_position_embeddings = 512,
        }));
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), JsonSerializer.Serialize(new { do_lower_case = lowerCase }));
        var vocabulary = WordPieceTokenizer.MiniLm().Vocabulary;
        if (withVocabTxt) File.WriteAllLines(Path.Combine(dir, "vocab.txt"), vocabulary);
        else File.WriteAllText(Path.Combine(dir, "tokenizer.json"), TokenizerJsonText(vocabulary, lowerCase));
        return dir;
    }

    static string TokenizerJsonText(IReadOnlyList<string> vocabulary, bool lowerCase, string type = "WordPiece") => JsonSerializer.Serialize(new
    {
        version = "1.0",
        normalizer = new { type = "BertNormalizer", clean_text = true, handle_chinese_chars = true, strip_accents = (bool?)null, lowercase = lowerCase },
        model = new
        {
            type,
            unk_token = "[UNK]",
            continuing_subword_prefix = "##",
            max_input_chars_per_word = 100,
            vocab = vocabulary.Select((token, id) => (token, id)).ToDictionary(p => p.token, p => p.id),
        },
    });

    [Test]
    public void AnOptimumFolderImportsWithLabelsFromConfigAndTheTokenizerFromTokenizerJson()
    {
        string dir = MakeFolder("optimum-export", withVocabTxt: false);
        var request = ExportFolder.Read(dir);
        Assert.That(request.Labels, Is.EqualTo(new[] { "NEGATIVE", "POSITIVE" }), "id2label in index order");
        Assert.That(request.MaxPositions, Is.EqualTo(512));
        Assert.That(request.Tokenizer!.VocabHash, Is.EqualTo(WordPieceTokenizer.MiniLm().VocabHash));
        string output = Path.Combine(dir, "model.grad.onnx");
        ModelImport.ToFile(request, output);
        using var engine = GradientEngine.Load(output, new EngineOptions { Log = TextWriter.Null });
        Assert.That(engine.Model.LabelNames, Is.EqualTo(new[] { "NEGATIVE", "POSITIVE" }));
        Assert.That(engine.Tokenizer.LowerCase, Is.True);
    }

    [Test]
    public void TokenizerJsonTokenizesLikeTheVocabularyFile()
    {
        string dir = MakeFolder("tokenizer-json", withVocabTxt: false);
        var fromJson = TokenizerJson.Read(Path.Combine(dir, "tokenizer.json"));
        var reference = WordPieceTokenizer.MiniLm();
        foreach (var example in RealData.Sst2Dev.Examples.Take(200))
            Assert.That(fromJson.Encode(example.Text).Ids, Is.EqualTo(reference.Encode(example.Text).Ids), example.Text);
    }

    [Test]
    public void ACasedTokenizerKeepsCaseAndAccents()
    {
        var vocabulary = WordPieceTokenizer.MiniLm().Vocabulary.Concat(["Café", "Paris"]).ToArray();
        var cased = WordPieceTokenizer.FromVocabText(string.Join("\n", vocabulary), lowerCase: false);
        var uncased = WordPieceTokenizer.FromVocabText(string.Join("\n", vocabulary), lowerCase: true);
        Assert.That(cased.Encode("Café in Paris").Tokens[1..^1], Is.EqualTo(new[] { "Café", "in", "Paris" }));
        Assert.That(uncased.Encode("Café in Paris").Tokens[1..^1], Is.EqualTo(new[] { "cafe", "in", "paris" }));
    }

    [Test]
    public void AByteLevelBpeTokenizerIsRefusedByName()
    {
        string path = Path.Combine(AuditModels.Folder, "bpe-tokenizer.json");
        File.WriteAllText(path, TokenizerJsonText(["a", "b"], lowerCase: false, type: "BPE"));
        var e = Assert.Throws<FacadeException>(() => TokenizerJson.Read(path))!;
        Assert.That(e.Message, Does.Contain("BPE tokenizer").And.Contain("WordPiece"));
    }

    [Test]
    public void AFolderWithoutConfigSaysWhatIsMissing()
    {
        string dir = MakeFolder("no-config", withVocabTxt: true);
        File.Delete(Path.Combine(dir, "config.json"));
        var e = Assert.Throws<FacadeException>(() => ExportFolder.Read(dir))!;
        Assert.That(e.Message, Does.Contain("config.json"));
    }
}
