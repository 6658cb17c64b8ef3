using FacadeOnnx.Text;

namespace FacadeOnnx.Training.Data;

/// <summary>
/// A SQuAD part read and cut into windows once: its questions, each question's windows, and the file it came from.
/// Training uses only the windows that hold the answer (<see cref="TrainingSet"/>); evaluation decodes every window.
/// </summary>
public sealed class SquadSplit
{
    public required string Name { get; init; }
    public required string SourceFile { get; init; }
    public required IReadOnlyList<SquadQuestion> Questions { get; init; }
    public required IReadOnlyList<IReadOnlyList<QaWindow>> Windows { get; init; }
    public int WindowCount => Windows.Sum(w => w.Count);

    /// <summary>Reads "dev-a" or "dev-b" (the first <paramref name="limit"/> questions when given) and cuts its windows.</summary>
    public static SquadSplit Load(string dataRoot, string part, WordPieceTokenizer tokenizer, QaSettings settings, int? limit = null, bool training = false)
    {
        settings.Validate();
        string file = Squad.FilePath(dataRoot, part);
        var questions = Squad.ReadFile(file);
        if (limit is int n) questions = questions.Take(n).ToArray();
        var windows = questions.Select(q => training ? settings.TrainingWindows(tokenizer, q, file) : settings.Windows(tokenizer, q)).ToArray();
        return new SquadSplit { Name = $"squad {part}", SourceFile = file, Questions = questions, Windows = windows };
    }

    /// <summary>The splits' files (relative to the data root) and their SHA-256, for manifests.</summary>
    public static Dictionary<string, string> FileHashes(string dataRoot, params SquadSplit[] splits) =>
        splits.Select(s => s.SourceFile).Distinct().ToDictionary(f => Path.GetRelativePath(dataRoot, f), Hashing.Sha256File);

    /// <summary>Every window, unlabelled (what a Facade trains on: it never reads answers).</summary>
    public EncodedDataset AllWindows() => Unlabelled(Windows.SelectMany(w => w).ToArray());

    /// <summary>The first window of each question, unlabelled (one input per question, for cheap evaluations).</summary>
    public EncodedDataset FirstWindows() => Unlabelled(Windows.Select(w => w[0]).ToArray());

    EncodedDataset Unlabelled(QaWindow[] windows) => new()
    {
        Name = Name,
        Inputs = windows.Select(w => w.Input).ToArray(),
        Labels = new int[windows.Length],
        SpanEnds = new int[windows.Length],
        LabelNames = ["start", "end"],
        SourceFiles = [SourceFile],
    };

    /// <summary>Every window that holds its question's first answer, with the answer's first and last piece as labels.</summary>
    public EncodedDataset TrainingSet()
    {
        var held = Windows.SelectMany(w => w).Where(w => w.Answer != null).ToArray();
        return new EncodedDataset
        {
            Name = Name,
            Inputs = held.Select(w => w.Input).ToArray(),
            Labels = held.Select(w => w.Answer!.Value.First).ToArray(),
            SpanEnds = held.Select(w => w.Answer!.Value.Last).ToArray(),
            LabelNames = ["start", "end"],
            SourceFiles = [SourceFile],
        };
    }
}
