using FacadeOnnx.Text;

namespace FacadeOnnx.Training.Tests;

/// <summary>Real sentences from ../shared/data, shared by the fixtures.</summary>
public static class RealData
{
    static readonly Lazy<Dataset> SstDev = new(() => Tasks.Sst2.Load(RepositoryPaths.ResolveDataRoot(), "dev"));
    static readonly Lazy<Dataset> SstTrain = new(() => Tasks.Sst2.Load(RepositoryPaths.ResolveDataRoot(), "train"));

    public static Dataset Sst2Dev => SstDev.Value;
    public static Dataset Sst2Train => SstTrain.Value;

    /// <summary><paramref name="count"/> dev sentences spread over the length range (every k-th by length).</summary>
    public static IReadOnlyList<Example> VariedSst2Dev(int count, int maxWords = 60)
    {
        var sorted = Sst2Dev.Examples.Where(e => e.Text.Split(' ').Length <= maxWords).OrderBy(e => e.Text.Length).ToList();
        return Enumerable.Range(0, count).Select(i => sorted[(int)((long)i * (sorted.Count - 1) / Math.Max(1, count - 1))]).ToList();
    }
}
