namespace FacadeOnnx;

/// <summary>
/// Where the repository and the shared data live. The data root is resolved from an explicit option, then the
/// environment variable FACADE_DATA, then ../shared/data beside the repository root (docs/design.md section 3).
/// </summary>
public static class RepositoryPaths
{
    public const string DataEnvironmentVariable = "FACADE_DATA";

    /// <summary>The folder holding FacadeOnnx.sln, searched upward from the working folder, then from the binaries.</summary>
    public static string? FindRepositoryRoot()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "FacadeOnnx.sln"))) return dir.FullName;
        }
        return null;
    }

    /// <summary>The data root; throws a <see cref="FacadeException"/> naming every place it looked.</summary>
    public static string ResolveDataRoot(string? option = null)
    {
        if (!string.IsNullOrWhiteSpace(option))
            return RequireFolder(option, "--data");
        string? fromEnvironment = Environment.GetEnvironmentVariable(DataEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
            return RequireFolder(fromEnvironment, DataEnvironmentVariable);
        string? root = FindRepositoryRoot();
        string? beside = root == null ? null : Path.GetFullPath(Path.Combine(root, "..", "shared", "data"));
        if (beside != null && Directory.Exists(beside)) return beside;
        throw new FacadeException(
            "No data folder found. Pass --data DIR, set " + DataEnvironmentVariable + ", or place the shared data at " +
            (beside ?? "../shared/data beside the repository") + ".\n" + ExpectedLayout);
    }

    public const string ExpectedLayout =
        "Expected layout:\n" +
        "  sst2/train.txt, sst2/dev.txt          LABEL<space>sentence, one a line\n" +
        "  snli/s1.dev, s2.dev, labels.dev       premise, hypothesis, label; line i of each is one pair (same for .test)\n" +
        "  squad/dev-a-v1.1.json, dev-b-v1.1.json SQuAD v1.1 JSON\n" +
        "  stopwords/english.txt                 one word a line";

    static string RequireFolder(string path, string source)
    {
        string full = Path.GetFullPath(path);
        if (!Directory.Exists(full))
            throw new FacadeException($"Data folder '{full}' (from {source}) does not exist.\n{ExpectedLayout}");
        return full;
    }
}
