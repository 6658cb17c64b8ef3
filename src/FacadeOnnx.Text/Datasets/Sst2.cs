using System.Globalization;

namespace FacadeOnnx.Text;

/// <summary>
/// SST-2, sentence level: <c>sst2/train.txt</c> (6,920) and <c>sst2/dev.txt</c> (872), one example a line as
/// <c>LABEL&lt;space&gt;sentence</c> with LABEL 0 (negative) or 1 (positive). The sentences are already PTB-tokenized
/// and lower-cased and are kept as they are.
/// </summary>
public static class Sst2
{
    public static IReadOnlyList<string> LabelNames { get; } = ["negative", "positive"];

    public static Dataset Load(string dataRoot, string split)
    {
        string file = split switch
        {
            "train" => "train.txt",
            "dev" => "dev.txt",
            _ => throw new FacadeException($"SST-2 has no split '{split}'; known splits: train, dev."),
        };
        string path = DataFiles.Require(dataRoot, Path.Combine("sst2", file), "SST-2");
        return new Dataset("sst2/" + split, ReadFile(path), LabelNames, [path]);
    }

    /// <summary>Parses one SST-2 file; a malformed line throws a <see cref="FacadeException"/> with the file and 1-based line number.</summary>
    public static IReadOnlyList<Example> ReadFile(string path)
    {
        string[] lines = DataFiles.ReadLines(path);
        var examples = new List<Example>(lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            int space = line.IndexOf(' ');
            string expected = "expected LABEL<space>sentence with LABEL 0 (negative) or 1 (positive)";
            if (line.Length == 0)
                throw new FacadeException($"{path}:{i + 1}: empty line; {expected}.");
            if (space < 0)
                throw new FacadeException($"{path}:{i + 1}: no space after the label in '{Shorten(line)}'; {expected}.");
            if (!int.TryParse(line.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out int label) || label > 1)
                throw new FacadeException($"{path}:{i + 1}: label '{Shorten(line[..space])}' is not 0 or 1; {expected}.");
            string sentence = line[(space + 1)..];
            if (string.IsNullOrWhiteSpace(sentence))
                throw new FacadeException($"{path}:{i + 1}: the sentence after label {label} is empty; {expected}.");
            examples.Add(new Example(sentence, null, label));
        }
        return examples;
    }

    static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
