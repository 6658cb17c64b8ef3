using FacadeOnnx.Graph;
using FacadeOnnx.Graph.Autodiff;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Pretrained;
using Onnx;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Tests;

/// <summary>
/// The autodiff on a model it did not build: the package's MiniLM model.onnx (opset 13, exported by PyTorch), cut at
/// the word-embedding Gather output, with the VJP of last_hidden_state appended; checked against TorchSharp
/// autograd on the imported encoder with the same cotangent.
/// </summary>
[TestFixture]
public class ForeignModelGradientTests
{
    public static string WordEmbeddingOutput(ModelProto model) =>
        model.Graph.Node.Single(n => n.OpType == "Gather" && n.Input[0] == "embeddings.word_embeddings.weight").Output[0];

    [Test]
    public void MiniLmVjpMatchesTorchSharpAutograd()
    {
        TorchRuntime.Initialize();
        byte[] bytes = MiniLmPackage.ModelOnnxBytes();
        var onnx = OnnxFile.Parse(bytes, "model.onnx");
        Assert.That(onnx.OpsetImport.Single().Version, Is.EqualTo(13), "the package ships opset 13");
        string cut = WordEmbeddingOutput(onnx);
        ReverseMode.Cut(onnx, cut);
        var added = ReverseMode.AppendVjp(onnx, cut, "last_hidden_state");

        var tokenizer = WordPieceTokenizer.MiniLm();
        var batch = Batch.FromInputs(RealData.VariedSst2Dev(32).Select(e => tokenizer.Encode(e.Text, maxLength: 128)).ToList());
        long[] shape = [batch.Size, batch.SequenceLength];
        var model = MiniLmImport.Create(OnnxFile.Parse(bytes, "model.onnx"), numLabels: 2);
        model.eval();
        int h = model.Config.Hidden;
        var random = new Random(3);
        float[] cotangent = Enumerable.Range(0, batch.Size * batch.SequenceLength * h).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

        float[] expected, embeds;
        using (var scope = NewDisposeScope())
        {
            var ids = tensor(batch.InputIds, shape);
            var e = model.embeddings.Lookup(ids).detach().requires_grad_();
            var hidden = model.Encode(e, tensor(batch.AttentionMask, shape), tensor(batch.TokenTypeIds, shape));
            var v = tensor(cotangent, [batch.Size, batch.SequenceLength, h]);
            expected = autograd.grad([hidden], [e], [v])[0].data<float>().ToArray();
            embeds = e.detach().data<float>().ToArray();
        }

        using var session = new OrtSession(onnx);
        var actual = session.Run(new()
        {
            ["input_ids"] = (batch.InputIds, shape),
            ["attention_mask"] = (batch.AttentionMask, shape),
            ["token_type_ids"] = (batch.TokenTypeIds, shape),
            [cut] = (embeds, [batch.Size, batch.SequenceLength, h]),
            ["last_hidden_state_cotangent"] = (cotangent, [batch.Size, batch.SequenceLength, h]),
        }, added.GradientOutput)[added.GradientOutput];

        double scale = expected.Max(Math.Abs);
        double diff = ExportParityTests.MaxAbsDiff(actual, expected);
        TestContext.Out.WriteLine($"MiniLM VJP: max diff {diff:E2}, largest |grad| {scale:E2}");
        Assert.That(diff, Is.LessThan(1e-4 * scale));
    }
}
