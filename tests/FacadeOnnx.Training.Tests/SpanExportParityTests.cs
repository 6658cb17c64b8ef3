using FacadeOnnx.Graph.Building;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Evaluation;
using FacadeOnnx.Training.Export;
using FacadeOnnx.Training.Facade;
using FacadeOnnx.Training.Merging;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;
using Contract = FacadeOnnx.Graph.Contract.GradientModelContract;

namespace FacadeOnnx.Training.Tests;

/// <summary>
/// The exported span (QA) graphs against TorchSharp on 32 real dev-b windows of different lengths in one padded batch:
/// ONNX Runtime's context-masked start and end logits against the TorchSharp forward, the graph's own best span against
/// <see cref="SpanDecoding"/>, and inputs_embeds_grad of the span loss against TorchSharp autograd, both at the model's
/// own best span (target −1) and at given spans.
/// </summary>
[TestFixture]
public class SpanExportParityTests
{
    static readonly QaSettings Settings = new() { MaxLength = 160, Stride = 64, MaxAnswerLength = 12 };

    static void AssertSpanParity(BertClassifier model, int opset, bool givenSpans)
    {
        var manifest = TinyModels.Manifest(model) with
        {
            Task = "squad", LabelNames = ["start", "end"], MaxLength = Settings.MaxLength,
            Settings = FineTuning.FineTuner.DescribeQa(Settings),
        };
        var forward = BertOnnxExporter.Forward(model, manifest, options: new ExportOptions { Opset = opset });
        var gradient = BertOnnxExporter.Gradient(model, manifest, options: new ExportOptions { Opset = opset });
        var split = SquadSplit.Load(RepositoryPaths.ResolveDataRoot(), "dev-b", WordPieceTokenizer.MiniLm(), Settings, 40);
        var windows = split.AllWindows();
        var inputs = windows.Inputs.Take(32).ToArray();
        using var batch = TensorBatch.Create(inputs, new int[inputs.Length]);
        long[] shape = [batch.Size, batch.Padded.SequenceLength];
        int sequence = batch.Padded.SequenceLength;

        // TorchSharp: raw logits, the best spans (as the engine decodes), the span-loss gradient at them.
        var embeds = model.embeddings.Lookup(batch.InputIds).detach();
        Tensor raw;
        using (no_grad()) raw = model.LogitsFromEmbeddings(embeds, batch.AttentionMask, batch.TokenTypeIds);
        var own = HeadTarget.Predicted(model, batch, raw, Settings.MaxAnswerLength);
        // Given spans: a fixed span inside each row's context, different from the model's own.
        var given = inputs.Select(x => { var (first, last) = SpanDecoding.ContextRange(x); return (Start: first, End: Math.Min(last, first + 2)); }).ToArray();
        var target = givenSpans
            ? new HeadTarget(tensor(given.Select(g => (long)g.Start).ToArray()), tensor(given.Select(g => (long)g.End).ToArray()), SpanHead.ContextMask(batch))
            : own;
        var grad = TorchSaliency.Gradient(model, embeds, batch.AttentionMask, batch.TokenTypeIds, target).data<float>().ToArray();
        var rawFlat = raw.data<float>().ToArray();

        using var forwardSession = new OrtSession(forward);
        var ort = forwardSession.Run(new()
        {
            [Contract.InputIds] = (batch.Padded.InputIds, shape), [Contract.AttentionMask] = (batch.Padded.AttentionMask, shape),
            [Contract.TokenTypeIds] = (batch.Padded.TokenTypeIds, shape),
        }, Contract.StartLogits, Contract.EndLogits);
        long[] targetSpan = givenSpans ? given.SelectMany(g => new long[] { g.Start, g.End }).ToArray() : Enumerable.Repeat(-1L, 2 * inputs.Length).ToArray();
        using var gradientSession = new OrtSession(gradient);
        var outputs = gradientSession.Run(new()
        {
            [Contract.InputsEmbeds] = (embeds.data<float>().ToArray(), [batch.Size, sequence, model.Config.Hidden]),
            [Contract.AttentionMask] = (batch.Padded.AttentionMask, shape),
            [Contract.TokenTypeIds] = (batch.Padded.TokenTypeIds, shape),
            [Contract.TargetSpan] = (targetSpan, [batch.Size, 2]),
        }, Contract.StartLogits, Contract.EndLogits, Contract.InputsEmbedsGrad);

        double logitDiff = 0;
        for (int row = 0; row < inputs.Length; row++)
        {
            var (first, last) = SpanDecoding.ContextRange(inputs[row]);
            var start = ort[Contract.StartLogits].AsSpan(row * sequence, sequence);
            var end = ort[Contract.EndLogits].AsSpan(row * sequence, sequence);
            for (int t = 0; t < sequence; t++)
            {
                bool inContext = t >= first && t <= last;
                if (!inContext)
                {
                    Assert.That(start[t], Is.LessThan(-5000), $"row {row}, position {t} is outside the context and masked");
                    continue;
                }
                logitDiff = Math.Max(logitDiff, Math.Abs(start[t] - rawFlat[(row * sequence + t) * 2]));
                logitDiff = Math.Max(logitDiff, Math.Abs(end[t] - rawFlat[(row * sequence + t) * 2 + 1]));
            }
            // The engine decodes ONNX Runtime's logits: the same best span as TorchSharp's.
            var decoded = SpanDecoding.BestSpan(start, end, first, last, Settings.MaxAnswerLength);
            Assert.That((decoded.Start, decoded.End), Is.EqualTo((own.Spans![row].Start, own.Spans[row].End)), $"row {row}: best span");
        }
        Assert.That(logitDiff, Is.LessThan(1e-4), "context logits");
        Assert.That(ExportParityTests.MaxAbsDiff(outputs[Contract.StartLogits], ort[Contract.StartLogits]), Is.LessThan(1e-4), "gradient model start logits");
        double scale = grad.Max(Math.Abs);
        double gradDiff = ExportParityTests.MaxAbsDiff(outputs[Contract.InputsEmbedsGrad], grad);
        TestContext.Out.WriteLine($"opset {opset}, {(givenSpans ? "given" : "own")} spans: max context logit diff {logitDiff:E2}, max grad diff {gradDiff:E2} (largest |grad| {scale:E2})");
        Assert.That(scale, Is.GreaterThan(0));
        Assert.That(gradDiff, Is.LessThan(1e-4 * scale), "inputs_embeds_grad");
    }

    [TestCase(GraphBuilder.DefaultOpset, false)]
    [TestCase(GraphBuilder.DefaultOpset, true)]
    [TestCase(11, false)]
    public void SpanGradientModelMatchesTorchSharp(int opset, bool givenSpans) =>
        AssertSpanParity(TinyModels.Create(seed: 41, TinyModels.Config() with { Head = ModelHead.Span }), opset, givenSpans);

    [Test]
    public void MergedSpanGradientModelMatchesTorchSharp()
    {
        var facade = TinyModels.Create(seed: 42, TinyModels.Config() with { Head = ModelHead.Span });
        var target = TinyModels.Create(seed: 43, TinyModels.Config(hidden: 96, intermediate: 192) with { Head = ModelHead.Span });
        AssertSpanParity(Merge.Models(facade, target), GraphBuilder.DefaultOpset, givenSpans: false);
    }

    [TestCase(GraphBuilder.DefaultOpset)]
    [TestCase(11)]
    public void ScalingMergeSpanGradientModelMatchesTorchSharp(int opset)
    {
        var facade = TinyModels.Create(seed: 44, TinyModels.Config() with { Head = ModelHead.Span });
        var target = TinyModels.Create(seed: 45, TinyModels.Config(hidden: 96, intermediate: 192) with { Head = ModelHead.Span });
        AssertSpanParity(Merge.Models(facade, target, new MergeOptions { Combination = MergeCombination.Scale, ScaleGain = 0.5 }), opset, givenSpans: false);
    }
}
