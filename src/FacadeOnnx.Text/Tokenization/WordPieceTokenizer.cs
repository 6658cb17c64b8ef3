using System.Text;
using MlBertTokenizer = Microsoft.ML.Tokenizers.BertTokenizer;
using MlBertOptions = Microsoft.ML.Tokenizers.BertOptions;

namespace FacadeOnnx.Text;

/// <summary>
/// BERT WordPiece tokenization (uncased by default, as bert-base-uncased and all-MiniLM-L6-v2; cased for vocabularies
/// that keep case) with character offsets into the source strings. The basic step (control characters removed,
/// whitespace and punctuation splits, CJK ideographs apart, and for uncased models lower case with accents stripped) is done here, traced character by character; the WordPiece step (greedy longest match,
/// "##" continuations, [UNK] for a word that cannot be covered or is longer than 100 characters) is
/// Microsoft.ML.Tokenizers' <see cref="MlBertTokenizer"/>, called once per word. Immutable and safe for concurrent use.
/// Special-token strings inside the text ("[MASK]") are ordinary text here, never special ids.
/// </summary>
public sealed class WordPieceTokenizer
{
    public const int DefaultMaxLength = 512;
    public const string ClsToken = "[CLS]", SepToken = "[SEP]", PadToken = "[PAD]", UnkToken = "[UNK]", MaskToken = "[MASK]";

    static readonly object SharedGate = new();
    static WordPieceTokenizer? _miniLm;

    readonly MlBertTokenizer _wordPiece;
    readonly string[] _vocabulary;
    readonly Dictionary<string, int> _ids;

    WordPieceTokenizer(string[] vocabulary, Dictionary<string, int> ids, MlBertTokenizer wordPiece, bool lowerCase)
    {
        LowerCase = lowerCase;
        _vocabulary = vocabulary;
        _ids = ids;
        _wordPiece = wordPiece;
        VocabHash = Hashing.Sha256(string.Join("\n", vocabulary));
        ClsId = ids[ClsToken];
        SepId = ids[SepToken];
        PadId = ids[PadToken];
        UnkId = ids[UnkToken];
        MaskId = ids[MaskToken];
    }

    /// <summary>SHA-256 (lower-case hex) of the vocabulary entries joined by "\n": the same for CRLF and LF files.</summary>
    public string VocabHash { get; }

    public int VocabSize => _vocabulary.Length;
    /// <summary>Whether text is lower-cased and stripped of accents before WordPiece (BERT's do_lower_case).</summary>
    public bool LowerCase { get; }
    public int ClsId { get; }
    public int SepId { get; }
    public int PadId { get; }
    public int UnkId { get; }
    public int MaskId { get; }

    /// <summary>The vocabulary in id order: entry i is line i of the vocabulary file.</summary>
    public IReadOnlyList<string> Vocabulary => _vocabulary;

    public string IdToToken(int id) =>
        (uint)id < (uint)_vocabulary.Length
            ? _vocabulary[id]
            : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token ids run from 0 to {_vocabulary.Length - 1}.");

    public int? TokenToId(string token) => _ids.TryGetValue(token, out int id) ? id : null;

    /// <summary>The tokenizer of the MiniLM package's bert-base-uncased vocabulary, created once per process.</summary>
    public static WordPieceTokenizer MiniLm()
    {
        lock (SharedGate)
            return _miniLm ??= FromVocabText(MiniLmPackage.VocabText(), MiniLmPackage.AssemblyPath + " (vocab.txt)");
    }

    public static WordPieceTokenizer FromVocabFile(string path, bool lowerCase = true)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FacadeException($"Vocabulary file '{full}' does not exist (expected one WordPiece entry a line).");
        return FromVocabText(File.ReadAllText(full, Encoding.UTF8), full, lowerCase);
    }

    /// <summary>A tokenizer over vocabulary text with one entry a line (LF or CRLF); line i is id i.</summary>
    public static WordPieceTokenizer FromVocabText(string vocabText, bool lowerCase = true) => FromVocabText(vocabText, "the vocabulary text", lowerCase);

    /// <summary>As <see cref="FromVocabText(string, bool)"/>; <paramref name="source"/> names the vocabulary in messages.</summary>
    public static WordPieceTokenizer FromVocabText(string vocabText, string source, bool lowerCase = true)
    {
        ArgumentNullException.ThrowIfNull(vocabText);
        string[] lines = vocabText.Split('\n');
        int count = lines.Length > 0 && lines[^1].Length == 0 ? lines.Length - 1 : lines.Length; // a final newline ends the last line
        var vocabulary = new string[count];
        var ids = new Dictionary<string, int>(count, StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            string entry = lines[i].EndsWith('\r') ? lines[i][..^1] : lines[i];
            if (i == 0 && entry.Length > 0 && entry[0] == '\uFEFF') entry = entry[1..];
            if (entry.Length == 0)
                throw new FacadeException($"Vocabulary {source}: line {i + 1} is empty (expected one WordPiece entry a line).");
            if (!ids.TryAdd(entry, i))
                throw new FacadeException($"Vocabulary {source}: line {i + 1} repeats '{entry}' from line {ids[entry] + 1} (expected unique entries).");
            vocabulary[i] = entry;
        }
        string[] missing = new[] { PadToken, UnkToken, ClsToken, SepToken, MaskToken }.Where(t => !ids.ContainsKey(t)).ToArray();
        if (missing.Length > 0)
            throw new FacadeException($"Vocabulary {source} lacks the special token(s) {string.Join(", ", missing)} that BERT inputs need.");

        MlBertTokenizer wordPiece;
        using (var stream = new MemoryStream(Encoding.UTF8.GetBytes(string.Join("\n", vocabulary) + "\n")))
            wordPiece = MlBertTokenizer.Create(stream, new MlBertOptions { LowerCaseBeforeTokenization = lowerCase, RemoveNonSpacingMarks = lowerCase });
        var tokenizer = new WordPieceTokenizer(vocabulary, ids, wordPiece, lowerCase);
        if (wordPiece.ClassificationTokenId != tokenizer.ClsId || wordPiece.SeparatorTokenId != tokenizer.SepId ||
            wordPiece.PaddingTokenId != tokenizer.PadId || wordPiece.UnknownTokenId != tokenizer.UnkId ||
            wordPiece.MaskingTokenId != tokenizer.MaskId)
            throw new InvalidOperationException("Microsoft.ML.Tokenizers numbered the special tokens differently from the vocabulary lines.");
        return tokenizer;
    }

    /// <summary>
    /// Encodes <c>[CLS] text [SEP]</c>, or <c>[CLS] text [SEP] pair [SEP]</c> when <paramref name="pair"/> is given.
    /// Inputs longer than <paramref name="maxLength"/> tokens (specials included) are cut at the end; for pairs,
    /// longest first: one token at a time from the end of the longer segment (the pair when both are equal), as Google's
    /// BERT <c>_truncate_seq_pair</c> and transformers' Python tokenizers do. (Hugging Face's Rust tokenizer splits
    /// differently when the two lengths are close: it keeps up to half the budget for the shorter segment.)
    /// <see cref="TokenizedInput.DroppedPieces"/> says how many word pieces were cut.
    /// </summary>
    public TokenizedInput Encode(string text, string? pair = null, int maxLength = DefaultMaxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        int specials = pair == null ? 2 : 3;
        if (maxLength < specials)
            throw new FacadeException($"Maximum sequence length {maxLength} is too small: {(pair == null ? "a single text" : "a pair")} needs at least {specials} positions for [CLS] and [SEP].");

        List<Piece> a = Pieces(text);
        List<Piece>? b = pair == null ? null : Pieces(pair);
        int budget = maxLength - specials;
        int dropped = Math.Max(0, a.Count + (b?.Count ?? 0) - budget);
        if (b == null)
        {
            if (dropped > 0) a.RemoveRange(budget, dropped);
        }
        else
        {
            while (a.Count + b.Count > budget)
            {
                if (a.Count > b.Count) a.RemoveAt(a.Count - 1);
                else b.RemoveAt(b.Count - 1);
            }
        }

        return Assemble(a, b, dropped);
    }

    /// <summary>
    /// Lays out word pieces already computed by <see cref="Pieces"/> as <c>[CLS] text [SEP]</c>, or
    /// <c>[CLS] text [SEP] pair [SEP]</c> when <paramref name="pair"/> is given, with type ids and spans as
    /// <see cref="Encode"/> makes them. Lets a caller tokenize once and lay out many inputs (the SQuAD windows slice one
    /// context's pieces); <paramref name="droppedPieces"/> is what the caller left out.
    /// </summary>
    internal TokenizedInput Assemble(IReadOnlyList<Piece> text, IReadOnlyList<Piece>? pair, int droppedPieces)
    {
        int specials = pair == null ? 2 : 3;
        int length = text.Count + (pair?.Count ?? 0) + specials;
        var ids = new int[length];
        var typeIds = new int[length];
        var tokens = new string[length];
        var spans = new TokenSpan[length];
        int position = 0;

        void AddSpecial(int id, int typeId)
        {
            ids[position] = id;
            typeIds[position] = typeId;
            tokens[position] = _vocabulary[id];
            spans[position] = TokenSpan.Special;
            position++;
        }

        void AddPieces(IReadOnlyList<Piece> pieces, int segment)
        {
            for (int i = 0; i < pieces.Count; i++)
            {
                Piece p = pieces[i];
                ids[position] = p.Id;
                typeIds[position] = segment;
                tokens[position] = _vocabulary[p.Id];
                spans[position] = new TokenSpan(segment, p.Start, p.Length);
                position++;
            }
        }

        AddSpecial(ClsId, 0);
        AddPieces(text, 0);
        int firstSep = position;
        AddSpecial(SepId, 0);
        if (pair != null)
        {
            AddPieces(pair, 1);
            AddSpecial(SepId, 1);
        }
        return new TokenizedInput(ids, typeIds, tokens, spans, droppedPieces, firstSep);
    }

    /// <summary>One word piece: its vocabulary id and the characters [Start, Start + Length) of its source string.</summary>
    internal readonly record struct Piece(int Id, int Start, int Length);

    /// <summary>The word pieces of <paramref name="text"/> in order, with character offsets into it; nothing is cut.</summary>
    internal List<Piece> Pieces(string text)
    {
        var pieces = new List<Piece>(text.Length / 4 + 4);
        foreach (BasicToken word in BasicTokenizer.Split(text, LowerCase))
        {
            var encoded = _wordPiece.EncodeToTokens(word.Text, out _, considerPreTokenization: false, considerNormalization: false);
            foreach (var token in encoded)
            {
                (int offset, int count) = token.Offset.GetOffsetAndLength(word.Text.Length);
                if (count == 0) continue;
                int start = word.Starts[offset];
                int end = word.Ends[offset + count - 1];
                pieces.Add(new Piece(token.Id, start, end - start));
            }
        }
        return pieces;
    }
}
