namespace FacadeOnnx.Text;

/// <summary>A named list of examples with the names of their labels and the files they were read from.</summary>
public sealed class Dataset
{
    public Dataset(string name, IReadOnlyList<Example> examples, IReadOnlyList<string> labelNames, IReadOnlyList<string> sourceFiles)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(labelNames);
        for (int i = 0; i < examples.Count; i++)
            if ((uint)examples[i].Label >= (uint)labelNames.Count)
                throw new ArgumentException($"Example {i} of {name} has label {examples[i].Label}; labels run from 0 to {labelNames.Count - 1}.", nameof(examples));
        Name = name;
        Examples = examples;
        LabelNames = labelNames;
        SourceFiles = sourceFiles;
    }

    /// <summary>Task and split, such as "sst2/dev" or "snli/eval".</summary>
    public string Name { get; }
    public IReadOnlyList<Example> Examples { get; }
    public IReadOnlyList<string> LabelNames { get; }
    public IReadOnlyList<string> SourceFiles { get; }
    public int Count => Examples.Count;

    /// <summary>How many examples carry each label, indexed by label.</summary>
    public int[] LabelCounts()
    {
        var counts = new int[LabelNames.Count];
        foreach (Example e in Examples) counts[e.Label]++;
        return counts;
    }

    public override string ToString() => $"{Name} ({Count} examples)";
}
