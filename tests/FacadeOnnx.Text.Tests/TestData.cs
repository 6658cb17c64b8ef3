using FacadeOnnx.Text;

namespace FacadeOnnx.Text.Tests;

/// <summary>Shared inputs for the tests: the real data root, the MiniLM tokenizer and the raw vocabulary lines.</summary>
static class TestData
{
    static readonly Lazy<string[]> RawVocabLines = new(() =>
    {
        string text = MiniLmPackage.VocabText();
        string[] lines = text.Split("\r\n");
        return lines[^1].Length == 0 ? lines[..^1] : lines;
    });

    public static string Root => RepositoryPaths.ResolveDataRoot();

    public static WordPieceTokenizer Tokenizer => WordPieceTokenizer.MiniLm();

    /// <summary>The vocabulary file's lines, split here independently of the tokenizer (line i is id i).</summary>
    public static string[] VocabLines => RawVocabLines.Value;

    /// <summary>A fresh temporary folder, deleted by the caller.</summary>
    public static string TempFolder()
    {
        string path = Path.Combine(Path.GetTempPath(), "facade-text-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Every n-th item, for samples spread over a whole file.</summary>
    public static IEnumerable<T> EveryNth<T>(IReadOnlyList<T> items, int n)
    {
        for (int i = 0; i < items.Count; i += n) yield return items[i];
    }
}
