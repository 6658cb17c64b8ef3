using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Reports;
using FacadeOnnx.Runtime.Saliency;

namespace FacadeOnnx.Runtime.Tests;

/// <summary>Bad input gets a clear error (or a reported truncation), never a crash.</summary>
[TestFixture]
public class BadInputTests
{
    [TestCase("")]
    [TestCase("   \t ")]
    public void EmptyTextIsRefused(string text)
    {
        using var explainer = new Explainer(TinyEngine.Load());
        var error = Assert.Throws<FacadeException>(() => explainer.Explain(text));
        Assert.That(error!.Message, Does.Contain("empty"));
    }

    [Test]
    public void LongTextIsTruncatedAndSaysSo()
    {
        using var explainer = new Explainer(TinyEngine.Load());
        string text = string.Join(" ", Enumerable.Repeat("a remarkably long sentence about nothing", 60));
        var map = explainer.Explain(text, "simple");
        Assert.That(map.Input.Truncated, Is.True);
        Assert.That(map.Tokens.Length, Is.EqualTo(explainer.Engine.MaxLength));
        Assert.That(map.Tokens[^1], Is.EqualTo("[SEP]"));
    }

    [Test]
    public void UnknownMethodListsTheKnownOnes()
    {
        var error = Assert.Throws<FacadeException>(() => SaliencyMethods.Create("lime"));
        Assert.That(error!.Message, Does.Contain("lime").And.Contain("simple").And.Contain("ig"));
    }

    [Test]
    public void ForwardOnlyModelSaysHowToExportAGradientModel()
    {
        var error = Assert.Throws<FacadeException>(() => GradientEngine.Load(TinyEngine.ForwardPath));
        Assert.That(error!.Message, Does.Contain("forward-only").And.Contain("--gradients"));
    }

    [Test]
    public void TruncatedOnnxFileIsRefused()
    {
        byte[] bytes = File.ReadAllBytes(TinyEngine.GradientPath);
        string path = Path.Combine(TinyEngine.Folder, "truncated.onnx");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var error = Assert.Throws<FacadeException>(() => GradientEngine.Load(path));
        Assert.That(error!.Message, Does.Contain("truncated.onnx"));
    }

    [Test]
    public void CorruptOnnxFileIsRefused()
    {
        string path = Path.Combine(TinyEngine.Folder, "corrupt.onnx");
        File.WriteAllBytes(path, Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 % 251)).ToArray());
        var error = Assert.Throws<FacadeException>(() => GradientEngine.Load(path));
        Assert.That(error!.Message, Does.Contain("corrupt.onnx"));
    }

    [Test]
    public void MissingFileIsNamed()
    {
        var error = Assert.Throws<FacadeException>(() => GradientEngine.Load("/nonexistent/model.onnx"));
        Assert.That(error!.Message, Does.Contain("/nonexistent/model.onnx"));
    }

    [Test]
    public void MismatchedVocabularyIsRefused()
    {
        string vocab = Path.Combine(TinyEngine.Folder, "other-vocab.txt");
        var words = Text.WordPieceTokenizer.MiniLm().Vocabulary.ToArray();
        (words[2000], words[2001]) = (words[2001], words[2000]);
        File.WriteAllLines(vocab, words);
        var error = Assert.Throws<FacadeException>(() => GradientEngine.Load(TinyEngine.GradientPath, new EngineOptions { VocabPath = vocab }));
        Assert.That(error!.Message, Does.Contain("does not match"));
    }

    [Test]
    public void UnknownDeviceIsRefusedAndCudaFallsBackToCpu()
    {
        Assert.Throws<FacadeException>(() => GradientEngine.Load(TinyEngine.GradientPath, new EngineOptions { Device = (ExecutionDevice)7 }));
        var log = new StringWriter();
        using var engine = GradientEngine.Load(TinyEngine.GradientPath, new EngineOptions { Device = ExecutionDevice.Cuda, Log = log });
        if (engine.Device == ExecutionDevice.Cpu) Assert.That(log.ToString(), Does.Contain("CUDA could not start"));
        Assert.That(engine.Predict(TinyEngine.Sentences(2)), Has.Count.EqualTo(2));
    }

    [Test]
    public void HtmlHeatmapHasOneRowPerMethodAndEveryToken()
    {
        using var explainer = new Explainer(TinyEngine.Load());
        var input = explainer.Encode("a gorgeous , witty , seductive movie .");
        var maps = SaliencyMethods.Parse("all").Select(m => explainer.Explain([input], m)[0]).ToList();
        string html = HeatmapHtml.Page("t", "s", maps);
        Assert.That(html.Split("<tr>").Length - 1, Is.EqualTo(4));
        foreach (var token in input.Tokens) Assert.That(html, Does.Contain(System.Net.WebUtility.HtmlEncode(token)));
        Assert.That(html, Does.StartWith("<!DOCTYPE html>"));
    }
}
