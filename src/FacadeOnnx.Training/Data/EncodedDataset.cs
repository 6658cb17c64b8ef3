using FacadeOnnx.Text;

namespace FacadeOnnx.Training.Data;

/// <summary>
/// A dataset split encoded once with the tokenizer: inputs, gold labels, and where it came from. For span data
/// (SQuAD windows) <see cref="Labels"/> holds each answer's first piece and <see cref="SpanEnds"/> its last.
/// </summary>
public sealed class EncodedDataset
{
    public required string Name { get; init; }
    public required IReadOnlyList<TokenizedInput> Inputs { get; init; }
    public required int[] Labels { get; init; }
    public required IReadOnlyList<string> LabelNames { get; init; }
    public required IReadOnlyList<string> SourceFiles { get; init; }
    /// <summary>The answer's last piece per input (span data only).</summary>
    public int[]? SpanEnds { get; init; }
    public int Count => Inputs.Count;

    public static EncodedDataset Encode(Dataset dataset, WordPieceTokenizer tokenizer, int maxLength, int? limit = null)
    {
        var examples = limit is int n ? dataset.Examples.Take(n).ToList() : dataset.Examples;
        return new EncodedDataset
        {
            Name = dataset.Name,
            Inputs = examples.Select(e => tokenizer.Encode(e.Text, e.Pair, maxLength)).ToArray(),
            Labels = examples.Select(e => e.Label).ToArray(),
            LabelNames = dataset.LabelNames,
            SourceFiles = dataset.SourceFiles,
        };
    }

    /// <summary>The data files of all <paramref name="datasets"/> (relative to the data root) and their SHA-256, for manifests.</summary>
    public static Dictionary<string, string> FileHashes(string dataRoot, params EncodedDataset[] datasets) =>
        datasets.SelectMany(d => d.SourceFiles).Distinct().ToDictionary(f => Path.GetRelativePath(dataRoot, f), Hashing.Sha256File);

    public EncodedDataset Subset(IReadOnlyList<int> indices) => new()
    {
        Name = Name,
        Inputs = indices.Select(i => Inputs[i]).ToArray(),
        Labels = indices.Select(i => Labels[i]).ToArray(),
        SpanEnds = SpanEnds == null ? null : indices.Select(i => SpanEnds[i]).ToArray(),
        LabelNames = LabelNames,
        SourceFiles = SourceFiles,
    };
}
