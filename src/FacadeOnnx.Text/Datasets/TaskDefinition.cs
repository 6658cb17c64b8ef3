namespace FacadeOnnx.Text;

/// <summary>
/// A classification task the project trains and evaluates on: its name, input kind, label names, the splits it can
/// load, and which split trains and which evaluates by default.
/// </summary>
public sealed class TaskDefinition
{
    readonly Func<string, string, Dataset> _load;

    internal TaskDefinition(string name, TaskKind kind, IReadOnlyList<string> labelNames, IReadOnlyList<string> splits,
        string trainSplit, string evalSplit, string description, Func<string, string, Dataset> load)
    {
        Name = name;
        Kind = kind;
        LabelNames = labelNames;
        Splits = splits;
        TrainSplit = trainSplit;
        EvalSplit = evalSplit;
        Description = description;
        _load = load;
    }

    public string Name { get; }
    public TaskKind Kind { get; }
    public IReadOnlyList<string> LabelNames { get; }
    public IReadOnlyList<string> Splits { get; }
    public string TrainSplit { get; }
    public string EvalSplit { get; }
    public string Description { get; }

    /// <summary>Reads <paramref name="split"/> from the data root; unknown splits and missing or malformed files throw <see cref="FacadeException"/>.</summary>
    public Dataset Load(string dataRoot, string split)
    {
        ArgumentNullException.ThrowIfNull(split);
        string normalized = split.Trim().ToLowerInvariant();
        if (!Splits.Contains(normalized))
            throw new FacadeException($"Task '{Name}' has no split '{split}'; known splits: {string.Join(", ", Splits)}.");
        return _load(dataRoot, normalized);
    }

    public override string ToString() => Name;
}
