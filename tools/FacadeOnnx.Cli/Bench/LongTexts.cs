using FacadeOnnx.Text;

namespace FacadeOnnx.Cli.Bench;

/// <summary>
/// The bench's long-text set: SQuAD dev-b paragraphs (Wikipedia, another domain than the models' training data) of
/// 128 to 512 word pieces, each read as one text, the first of each length in file order. Real text, so the
/// tokenizer's pieces and the models' attention patterns are those of real inputs.
/// </summary>
public static class LongTexts
{
    public const int Shortest = 128, Longest = 512;

    public static TokenizedInput[] Read(string dataRoot, WordPieceTokenizer tokenizer, int limit)
    {
        var texts = Squad.Load(dataRoot, "dev-b").Select(q => q.Context).Distinct()
            .Select(context => tokenizer.Encode(context, maxLength: Longest))
            .Where(x => x.Length >= Shortest && x.Length < Longest)
            .Take(limit).ToArray();
        if (texts.Length == 0) throw new FacadeException($"No SQuAD dev-b paragraph of {Shortest} to {Longest} word pieces was found under '{dataRoot}'.");
        return texts;
    }
}
