using FacadeOnnx.Graph;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Model;
using FacadeOnnx.Training.Pretrained;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Tests;

/// <summary>The TorchSharp encoder with MiniLM's imported weights against ONNX Runtime running the package's own model.onnx.</summary>
[TestFixture]
public class MiniLmImportTests
{
    [Test]
    public void ImportedEncoderMatchesPackageModelOnRealSentences()
    {
        TorchRuntime.Initialize();
        byte[] onnxBytes = MiniLmPackage.ModelOnnxBytes();
        var model = MiniLmImport.Create(OnnxFile.Parse(onnxBytes, "model.onnx"), numLabels: 2);
        model.eval();
        Assert.That(model.Config.Heads, Is.EqualTo(12), "head count read from the attention reshape");

        var tokenizer = WordPieceTokenizer.MiniLm();
        var inputs = RealData.VariedSst2Dev(32).Select(e => tokenizer.Encode(e.Text, maxLength: 128)).ToList();
        var batch = Batch.FromInputs(inputs);
        long[] shape = [batch.Size, batch.SequenceLength];
        Assert.That(inputs.Select(i => i.Length).Distinct().Count(), Is.GreaterThan(10), "sentences of different lengths");

        float[] expected;
        using (var session = new InferenceSession(onnxBytes))
        {
            using var ids = OrtValue.CreateTensorValueFromMemory(batch.InputIds, shape);
            using var mask = OrtValue.CreateTensorValueFromMemory(batch.AttentionMask, shape);
            using var types = OrtValue.CreateTensorValueFromMemory(batch.TokenTypeIds, shape);
            using var results = session.Run(new RunOptions(), ["input_ids", "attention_mask", "token_type_ids"], [ids, mask, types], ["last_hidden_state"]);
            expected = results[0].GetTensorDataAsSpan<float>().ToArray();
        }

        float[] actual;
        using (no_grad())
        {
            using var ids = tensor(batch.InputIds, shape);
            using var mask = tensor(batch.AttentionMask, shape);
            using var types = tensor(batch.TokenTypeIds, shape);
            using var hidden = model.Encode(model.embeddings.Lookup(ids), mask, types);
            actual = hidden.data<float>().ToArray();
        }

        int h = model.Config.Hidden;
        double worst = 0;
        for (int row = 0; row < batch.Size; row++)
            for (int t = 0; t < batch.Lengths[row]; t++)
                for (int d = 0; d < h; d++)
                {
                    int i = (row * batch.SequenceLength + t) * h + d;
                    worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
                }
        TestContext.Out.WriteLine($"max |TorchSharp - ONNX Runtime| over real tokens: {worst:E2}");
        Assert.That(worst, Is.LessThan(1e-4));
    }
}
