namespace FacadeOnnx.Text;

/// <summary>
/// The stop-word list of the reference analyses (NLTK English as of 2020, 179 words, <c>stopwords/english.txt</c>),
/// used as a set of WordPiece strings: a token matches when its text is in the set exactly (case-sensitive), so
/// "##s" continuation pieces and the special tokens never match (docs/method.md §3).
/// </summary>
public sealed class StopWords
{
    readonly HashSet<string> _set;

    StopWords(string[] words)
    {
        Words = words;
        _set = new HashSet<string>(words, StringComparer.Ordinal);
    }

    /// <summary>The words in file order.</summary>
    public IReadOnlyList<string> Words { get; }

    public int Count => _set.Count;

    public static StopWords Load(string dataRoot) => FromFile(DataFiles.Require(dataRoot, Path.Combine("stopwords", "english.txt"), "stop-word"));

    public static StopWords FromFile(string path)
    {
        if (!File.Exists(path))
            throw new FacadeException($"Missing stop-word file '{Path.GetFullPath(path)}'.\n{RepositoryPaths.ExpectedLayout}");
        string[] lines = DataFiles.ReadLines(path);
        var words = new List<string>(lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            string word = lines[i].Trim();
            if (word.Length == 0)
                throw new FacadeException($"{path}:{i + 1}: empty line; expected one stop word a line.");
            if (word.Any(char.IsWhiteSpace))
                throw new FacadeException($"{path}:{i + 1}: '{word}' contains whitespace; expected one stop word a line.");
            words.Add(word);
        }
        return new StopWords(words.Distinct(StringComparer.Ordinal).ToArray());
    }

    public static StopWords FromWords(IEnumerable<string> words) => new(words.Distinct(StringComparer.Ordinal).ToArray());

    /// <summary>Whether a WordPiece token is a stop word: exact, case-sensitive; "##" pieces never are.</summary>
    public bool Contains(string wordPiece) => !wordPiece.StartsWith("##", StringComparison.Ordinal) && _set.Contains(wordPiece);

    /// <summary>
    /// The positions of stop words in an encoded input, ascending: in every segment, only before the first [SEP]
    /// (premise, question) or only after it (hypothesis, passage). [CLS] and [SEP] never match.
    /// </summary>
    public IReadOnlyList<int> Positions(TokenizedInput input, Segment segment)
    {
        var positions = new List<int>();
        for (int i = 0; i < input.Length; i++)
            if (input.InSegment(i, segment) && Contains(input.Tokens[i])) positions.Add(i);
        return positions;
    }
}
