namespace FacadeOnnx.Text;

/// <summary>Finds files under the data root with errors that name the file and show the expected layout.</summary>
internal static class DataFiles
{
    public static string RequireRoot(string dataRoot)
    {
        ArgumentNullException.ThrowIfNull(dataRoot);
        string full = Path.GetFullPath(dataRoot);
        if (!Directory.Exists(full))
            throw new FacadeException($"Data folder '{full}' does not exist.\n{RepositoryPaths.ExpectedLayout}");
        return full;
    }

    public static string Require(string dataRoot, string relativePath, string what)
    {
        string root = RequireRoot(dataRoot);
        string full = Path.GetFullPath(Path.Combine(root, relativePath));
        if (!File.Exists(full))
            throw new FacadeException($"Missing {what} file '{full}' (data root '{root}').\n{RepositoryPaths.ExpectedLayout}");
        return full;
    }

    /// <summary>The lines of a UTF-8 text file, LF or CRLF; a final newline does not start another line.</summary>
    public static string[] ReadLines(string path) => File.ReadAllLines(path, System.Text.Encoding.UTF8);
}
