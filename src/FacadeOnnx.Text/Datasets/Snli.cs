namespace FacadeOnnx.Text;

/// <summary>
/// SNLI: <c>snli/s1.SPLIT</c> (premises), <c>s2.SPLIT</c> (hypotheses) and <c>labels.SPLIT</c> for SPLIT dev (9,842
/// pairs) and test (9,824); line i of the three files is one pair. Splits: "dev" and "test" are the files; "eval" is a
/// fixed 1,000-pair subset of dev (<see cref="SnliEvalSubset"/>); "train" is the other 8,842 dev pairs followed by all
/// test pairs. Pairs labelled "-" (no gold label) are dropped, as the reference reader does; the files here have none.
/// </summary>
public static class Snli
{
    public static IReadOnlyList<string> LabelNames { get; } = ["entailment", "neutral", "contradiction"];

    public const string NoGoldLabel = "-";

    public static Dataset Load(string dataRoot, string split)
    {
        switch (split)
        {
            case "dev":
            case "test":
            {
                var (pairs, files) = ReadRaw(dataRoot, split);
                return new Dataset("snli/" + split, pairs.OfType<Example>().ToArray(), LabelNames, files);
            }
            case "eval":
            case "train":
            {
                var (dev, devFiles) = ReadRaw(dataRoot, "dev");
                if (dev.Count != SnliEvalSubset.DevPairs)
                    throw new FacadeException(
                        $"The SNLI eval subset is defined over the {SnliEvalSubset.DevPairs} pairs of snli/*.dev, but {devFiles[0]} has {dev.Count}; " +
                        "use the original e-SNLI dev files.");
                var inEval = new bool[dev.Count];
                foreach (int index in SnliEvalSubset.Indices) inEval[index] = true;
                if (split == "eval")
                {
                    var eval = SnliEvalSubset.Indices.Select(i => dev[i]).OfType<Example>().ToArray();
                    return new Dataset("snli/eval", eval, LabelNames, devFiles);
                }
                var (test, testFiles) = ReadRaw(dataRoot, "test");
                var train = dev.Where((_, i) => !inEval[i]).Concat(test).OfType<Example>().ToArray();
                return new Dataset("snli/train", train, LabelNames, [.. devFiles, .. testFiles]);
            }
            default:
                throw new FacadeException($"SNLI has no split '{split}'; known splits: train, eval, dev, test.");
        }
    }

    /// <summary>
    /// The pairs of one file split ("dev" or "test") in line order, null where the label is "-", and the three files read.
    /// </summary>
    public static (IReadOnlyList<Example?> Pairs, IReadOnlyList<string> Files) ReadRaw(string dataRoot, string fileSplit)
    {
        string premisesPath = DataFiles.Require(dataRoot, Path.Combine("snli", "s1." + fileSplit), "SNLI premise");
        string hypothesesPath = DataFiles.Require(dataRoot, Path.Combine("snli", "s2." + fileSplit), "SNLI hypothesis");
        string labelsPath = DataFiles.Require(dataRoot, Path.Combine("snli", "labels." + fileSplit), "SNLI label");
        string[] premises = DataFiles.ReadLines(premisesPath);
        string[] hypotheses = DataFiles.ReadLines(hypothesesPath);
        string[] labels = DataFiles.ReadLines(labelsPath);
        if (premises.Length != hypotheses.Length || premises.Length != labels.Length)
            throw new FacadeException(
                $"SNLI {fileSplit} files disagree on the number of pairs: {premisesPath} has {premises.Length} lines, " +
                $"{hypothesesPath} {hypotheses.Length}, {labelsPath} {labels.Length}; line i of each must be the same pair.");

        var pairs = new Example?[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            string label = labels[i].Trim();
            if (label == NoGoldLabel) continue;
            int index = IndexOfLabel(label);
            if (index < 0)
                throw new FacadeException(
                    $"{labelsPath}:{i + 1}: label '{label}' is not one of {string.Join(", ", LabelNames)} (or '{NoGoldLabel}' for no gold label).");
            pairs[i] = new Example(premises[i], hypotheses[i], index);
        }
        return (pairs, [premisesPath, hypothesesPath, labelsPath]);
    }

    static int IndexOfLabel(string label)
    {
        for (int i = 0; i < LabelNames.Count; i++)
            if (LabelNames[i] == label) return i;
        return -1;
    }
}
