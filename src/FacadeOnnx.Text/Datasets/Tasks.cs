namespace FacadeOnnx.Text;

/// <summary>The registry of tasks by name: "sst2" and "snli".</summary>
public static class Tasks
{
    public static TaskDefinition Sst2 { get; } = new(
        "sst2", TaskKind.SingleSentence, global::FacadeOnnx.Text.Sst2.LabelNames, ["train", "dev"], "train", "dev",
        "SST-2 sentence-level sentiment (sst2/train.txt 6,920, sst2/dev.txt 872)", global::FacadeOnnx.Text.Sst2.Load);

    public static TaskDefinition Snli { get; } = new(
        "snli", TaskKind.SentencePair, global::FacadeOnnx.Text.Snli.LabelNames, ["train", "eval", "dev", "test"], "train", "eval",
        "SNLI natural language inference (train: test + dev outside the fixed 1,000-pair eval subset)", global::FacadeOnnx.Text.Snli.Load);

    public static IReadOnlyList<TaskDefinition> All { get; } = [Sst2, Snli];

    public static IReadOnlyList<string> Names { get; } = All.Select(t => t.Name).ToArray();

    /// <summary>The task called <paramref name="name"/> (case-insensitive); throws a <see cref="FacadeException"/> listing the known tasks.</summary>
    public static TaskDefinition Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string key = name.Trim();
        return All.FirstOrDefault(t => string.Equals(t.Name, key, StringComparison.OrdinalIgnoreCase))
            ?? throw new FacadeException($"Unknown task '{name}'; known tasks: {string.Join(", ", Names)}.");
    }
}
