using System.CommandLine;

namespace FacadeOnnx.Cli.Commands;

/// <summary>Options several commands share, so their names, defaults and help read the same everywhere.</summary>
public static class CommonOptions
{
    public static Option<string?> Data() => new("--data")
    {
        Description = "Data root holding sst2/, snli/, squad/, stopwords/ (default: $FACADE_DATA, then ../shared/data beside the repository).",
    };

    /// <summary>--task; without a default (<paramref name="defaultTask"/> null) it reads as null when not given.</summary>
    public static Option<string> Task(string? defaultTask = "sst2", string? more = null, bool squad = false)
    {
        var option = new Option<string>("--task")
        {
            Description = "Task: sst2 (sentiment, 6,920 train / 872 dev) or snli (NLI pairs, train = test + dev outside the fixed 1,000-pair eval subset)" +
                          (squad ? " or squad (SQuAD v1.1 spans: train on dev-a, 4,961 questions; evaluate on dev-b, 5,609)." : ".") +
                          (more == null ? "" : " " + more),
        }.AcceptOnlyFromAmong(squad ? ["sst2", "snli", "squad"] : ["sst2", "snli"]);
        if (defaultTask != null) option.DefaultValueFactory = _ => defaultTask;
        return option;
    }

    public static Option<int?> MaxLength() => new("--max-length")
    {
        Description = "Longest input in word pieces, [CLS] and [SEP] included; longer texts are cut at the end, and the output says so " +
                      "(default: the model's training length, at most its position table).",
    };

    public static Option<long> Seed(long value) => new("--seed") { Description = "Random seed (initialization, shuffling, dropout).", DefaultValueFactory = _ => value };

    public static Option<int?> Threads() => new("--threads") { Description = "CPU threads (default: all cores)." };

    public static Option<bool> Fresh() => new("--fresh") { Description = "Discard an interrupted run found in the output folder instead of resuming it." };
}
