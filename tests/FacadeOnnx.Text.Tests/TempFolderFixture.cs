namespace FacadeOnnx.Text.Tests;

/// <summary>A base for fixtures that write files: a fresh temporary folder per test, deleted after it.</summary>
public abstract class TempFolderFixture
{
    protected string Folder { get; private set; } = "";

    [SetUp]
    public void MakeFolder() => Folder = TestData.TempFolder();

    [TearDown]
    public void RemoveFolder() => Directory.Delete(Folder, true);

    /// <summary>Writes <paramref name="text"/> to <paramref name="relative"/> under the folder (creating subfolders); returns the full path.</summary>
    protected string Write(string relative, string text)
    {
        string path = Path.Combine(Folder, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }
}
