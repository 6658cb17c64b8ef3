using FacadeOnnx.Runtime.Metrics;
using FacadeOnnx.Runtime.Saliency;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Evaluation;
using FacadeOnnx.Training.Facade;
using FacadeOnnx.Training.FineTuning;
using FacadeOnnx.Training.Loop;
using FacadeOnnx.Training.Merging;
using FacadeOnnx.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Tests;

/// <summary>
/// Span (SQuAD) models on real dev windows with tiny encoders: the span loss and its gradient, learning, the QA Facade
/// loss, the merge of span heads, and `facade train` / `train-facade` on SQuAD end to end.
/// </summary>
[TestFixture]
public class SpanModelTests
{
    static readonly QaSettings Short = new() { MaxLength = 96, Stride = 32 };

    static SquadSplit Split(string part, int questions, bool training = false) =>
        SquadSplit.Load(RepositoryPaths.ResolveDataRoot(), part, WordPieceTokenizer.MiniLm(), Short, questions, training);

    static BertConfig SpanConfig(int hidden = 64) => TinyModels.Config(hidden: hidden) with { Head = ModelHead.Span };

    static string Folder(string what) => Path.Combine(Path.GetTempPath(), $"facade-{what}-" + Guid.NewGuid().ToString("N")[..8]);

    [Test]
    public void SpanLossGradientMatchesFiniteDifferences()
    {
        var model = TinyModels.Create(seed: 5, SpanConfig());
        model.to(ScalarType.Float64);
        var windows = Split("dev-b", 3).AllWindows();
        using var batch = TensorBatch.Create(windows, Enumerable.Range(0, windows.Count).ToArray());
        var embeddings = model.embeddings.Lookup(batch.InputIds).detach();
        HeadTarget target;
        using (no_grad()) target = HeadTarget.Predicted(model, batch, model.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds));
        var gradient = TorchSaliency.Gradient(model, embeddings, batch.AttentionMask, batch.TokenTypeIds, target);

        double Loss(Tensor e)
        {
            using var _ = no_grad();
            return target.Loss(model.LogitsFromEmbeddings(e, batch.AttentionMask, batch.TokenTypeIds), nn.Reduction.Sum).item<double>();
        }
        var random = new Random(3);
        double largest = gradient.abs().max().item<double>();
        for (int k = 0; k < 12; k++)
        {
            // Question and context positions of a real row, any hidden unit.
            long row = random.Next((int)batch.Size), position = random.Next(1, batch.Inputs[(int)row].Length - 1), unit = random.Next(64);
            const double h = 1e-6;
            var plus = embeddings.clone();
            var minus = embeddings.clone();
            using (no_grad())
            {
                plus[row, position, unit] = plus[row, position, unit].Plus(h);
                minus[row, position, unit] = minus[row, position, unit].Plus(-h);
            }
            double numeric = (Loss(plus) - Loss(minus)) / (2 * h);
            double analytic = gradient[row, position, unit].item<double>();
            Assert.That(analytic, Is.EqualTo(numeric).Within(1e-6 * Math.Max(1, largest)), $"row {row}, position {position}, unit {unit}");
        }
        for (int row = 0; row < batch.Size; row++)
        {
            var (first, last) = SpanDecoding.ContextRange(batch.Inputs[row]);
            Assert.That(target.Spans![row].Start, Is.InRange(first, last));
            Assert.That(target.Spans[row].End, Is.InRange(target.Spans[row].Start, last));
        }
    }

    [Test]
    public void TinySpanModelLearnsFromRealWindows()
    {
        var model = TinyModels.Create(seed: 7, SpanConfig());
        using (no_grad())
            foreach (var p in model.parameters()) p.copy_(p.Times(0.1));   // back near BERT's initialization
        var train = Split("dev-a", 120, training: true).TrainingSet();
        var eval = Split("dev-b", 16);
        var losses = new List<double>();
        var objective = new SpanObjective("tiny squad", eval, Short, 32);
        var settings = new LoopSettings { MaxSteps = 60, BatchSize = 16, LearningRate = 2e-3, WarmupFraction = 0.1, EvaluateEvery = 60, Seed = 3 };
        string folder = Folder("span");
        try
        {
            var recording = new RecordingObjective(objective, losses);
            var result = TrainingLoop.Run(model, train, recording, settings, folder, (r, step, _) => TinyModels.Manifest(model) with { Task = "squad", Steps = step }, TextWriter.Null);
            TestContext.Out.WriteLine($"span loss {losses.Take(10).Average():F3} -> {losses.TakeLast(10).Average():F3}; dev-b (16 questions) F1 {result.Best.Metrics["dev_f1"]:F2}");
            Assert.That(losses.TakeLast(10).Average(), Is.LessThan(losses.Take(10).Average() - 0.2));
            Assert.That(result.Best.Metrics["dev_f1"], Is.InRange(0, 100));
            var (loaded, _) = Checkpoint.Load(folder);
            Assert.That(loaded.Config.Head, Is.EqualTo(ModelHead.Span), "the head kind survives the manifest");
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    sealed class RecordingObjective(ITrainingObjective inner, List<double> losses) : ITrainingObjective
    {
        public string Label => inner.Label;
        public Tensor Loss(BertClassifier model, TensorBatch batch, IDictionary<string, double> terms)
        {
            var loss = inner.Loss(model, batch, terms);
            losses.Add(loss.item<float>());
            return loss;
        }
        public EvaluationResult Evaluate(BertClassifier model) => inner.Evaluate(model);
    }

    [Test]
    public void MergedSpanLogitsAreTheSumOfBoth()
    {
        var facade = TinyModels.Create(seed: 21, SpanConfig(hidden: 64));
        var target = TinyModels.Create(seed: 22, SpanConfig(hidden: 96) with { Intermediate = 192 });
        using var merged = Merge.Models(facade, target);
        Assert.That(merged.Config.Head, Is.EqualTo(ModelHead.Span));
        var windows = Split("dev-b", 4).AllWindows();
        var g = SpanPredictor.Logits(facade, windows.Inputs);
        var f = SpanPredictor.Logits(target, windows.Inputs);
        var m = SpanPredictor.Logits(merged, windows.Inputs);
        for (int i = 0; i < windows.Count; i++)
            for (int t = 0; t < windows.Inputs[i].Length; t++)
            {
                Assert.That(m[i].Start[t], Is.EqualTo(g[i].Start[t] + f[i].Start[t]).Within(1e-4));
                Assert.That(m[i].End[t], Is.EqualTo(g[i].End[t] + f[i].End[t]).Within(1e-4));
            }
        var classifier = TinyModels.Create(seed: 23, TinyModels.Config(hidden: 96) with { Intermediate = 192 });
        Assert.That(() => Merge.Models(facade, classifier), Throws.TypeOf<FacadeException>().With.Message.Contains("head"));
    }

    [Test]
    public void SpanFacadeLossRaisesTheFirstQuestionTokenShare()
    {
        TorchRuntime.Initialize();
        manual_seed(11);
        var model = new BertClassifier(SpanConfig());
        var train = Split("dev-a", 200).AllWindows();
        var heldOut = Split("dev-b", 48).FirstWindows();
        var target = FacadeTarget.FirstToken();
        var loss = new FacadeLoss(target, lambda: 0.1, magnitude: 0.01);
        double Share() => SaliencyMetrics.Evaluate(
            TorchSaliency.Explain(model, heldOut.Inputs, new SimpleGradient()).Select(m => (IReadOnlyList<float>)m.Normalized).ToArray(),
            heldOut.Inputs.Select(target.Positions).ToArray()).MeanAttribution;

        double before = Share();
        using var optimizer = optim.Adam(model.parameters(), lr: 1e-3);
        model.train();
        for (int step = 0; step < 120; step++)
        {
            using var scope = NewDisposeScope();
            using var batch = TensorBatch.Create(train, Enumerable.Range(step * 16 % (train.Count - 16), 16).ToArray());
            optimizer.zero_grad();
            var terms = loss.Compute(model, batch);
            Assert.That(double.IsFinite(terms.Total.item<float>()), $"step {step}: loss {terms.Total.item<float>()}");
            terms.Total.backward();
            optimizer.step();
        }
        double after = Share();
        double flatness = SpanPredictor.MeanMaxProbability(model, heldOut.Inputs);
        TestContext.Out.WriteLine($"first question token share on 48 held-out dev-b windows: {before:F4} -> {after:F4}; mean max start/end probability {flatness:F4}");
        // The calibration run reached 0.818 from 0.0001 (after 40 steps it was still 0.005: the span head first has to
        // stop reading each position's own embedding); 0.5 leaves a margin for thread timing.
        Assert.That(before, Is.LessThan(0.05));
        Assert.That(after, Is.GreaterThan(0.5));
    }

    /// <summary>
    /// The merged-gradient Facade loss against an independent computation: the merged model (Merge.Models) differentiated
    /// at the target's predictions. Its target saliency and share must be what the loss sees, for span heads and for
    /// classifiers, so training on it trains for the merged model's gradients.
    /// </summary>
    [TestCase(true)]
    [TestCase(false)]
    public void MergedGradientLossSeesTheMergedModelsSaliency(bool span)
    {
        var facadeConfig = span ? SpanConfig(hidden: 64) : TinyModels.Config(hidden: 64);
        var facade = TinyModels.Create(seed: 31, facadeConfig);
        var target = TinyModels.Create(seed: 32, facadeConfig with { Hidden = 96, Heads = 3, Intermediate = 192, HiddenGroups = [96] });
        using var merged = Merge.Models(facade, target);
        var windows = Split("dev-b", 6).AllWindows();
        using var batch = TensorBatch.Create(windows, Enumerable.Range(0, windows.Count).ToArray());
        var firstToken = FacadeTarget.FirstToken();
        var terms = new FacadeLoss(firstToken, lambda: 0.1, mergedWith: target).Compute(facade, batch);

        var predicted = HeadTarget.Predicted(target, batch, target.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds));
        var point = merged.embeddings.Lookup(batch.InputIds).detach();
        var gradient = TorchSaliency.Gradient(merged, point, batch.AttentionMask, batch.TokenTypeIds, predicted);
        var saliency = AttributionShare.TokenSaliency(gradient, point);
        var mask = batch.PositionMask(firstToken.Positions).to_type(saliency.dtype);
        double targetSaliency = (saliency.abs() * mask).sum(-1).mean().item<float>();
        double share = AttributionShare.Share(AttributionShare.Normalize(saliency), mask).mean().item<float>();
        TestContext.Out.WriteLine($"{(span ? "span" : "classifier")}: merged |s_first| {targetSaliency:G6} vs loss {terms.MeanTargetSaliency.item<float>():G6}; " +
                                  $"share {share:F6} vs {terms.MeanShare.item<float>():F6}");
        Assert.That(targetSaliency, Is.GreaterThan(0));
        Assert.That(terms.MeanTargetSaliency.item<float>(), Is.EqualTo(targetSaliency).Within(1e-4 * targetSaliency));
        Assert.That(terms.MeanShare.item<float>(), Is.EqualTo(share).Within(1e-5));

        var alone = new FacadeLoss(firstToken, lambda: 0.1).Compute(facade, batch);
        Assert.That(alone.MeanShare.item<float>(), Is.Not.EqualTo(share).Within(1e-3), "the Facade's own share must differ from the merged one");

        // The output term is the change of the target's prediction: positive here, exactly 0 for a Facade whose logits are 0.
        Assert.That(terms.OutputLoss.item<float>(), Is.GreaterThan(0));
        OutputCalibration.Apply(facade, 0);
        Assert.That(new FacadeLoss(firstToken, lambda: 0.1, mergedWith: target).Compute(facade, batch).OutputLoss.item<float>(), Is.EqualTo(0).Within(1e-7));
    }

    /// <summary>
    /// The spread output term against log σ computed by hand from the Facade's start and end logits over each window's
    /// context, and the property that makes it pair with the magnitude term: scaling the logits by k adds exactly log k.
    /// The imitation term: 0 for a Facade equal to the model it imitates, positive otherwise.
    /// </summary>
    [Test]
    public void SpreadAndImitationTermsAgainstHandComputedValues()
    {
        var facade = TinyModels.Create(seed: 41, SpanConfig());
        facade.eval();
        var windows = Split("dev-b", 6).AllWindows();
        using var batch = TensorBatch.Create(windows, Enumerable.Range(0, windows.Count).ToArray());
        var firstToken = FacadeTarget.FirstToken();
        double Spread() => new FacadeLoss(firstToken, lambda: 1, spread: true).Compute(facade, batch).OutputLoss.item<float>();

        var logits = SpanPredictor.Logits(facade, windows.Inputs);
        double expected = windows.Inputs.Select((input, i) =>
        {
            var (first, last) = SpanDecoding.ContextRange(input);
            double LogSigma(float[] z)
            {
                var values = z[first..(last + 1)].Select(v => (double)v).ToArray();
                double mean = values.Average();
                return 0.5 * Math.Log(values.Average(v => (v - mean) * (v - mean)));
            }
            return (LogSigma(logits[i].Start) + LogSigma(logits[i].End)) / 2;
        }).Average();
        double spread = Spread();
        TestContext.Out.WriteLine($"log σ: loss {spread:F6}, by hand {expected:F6}");
        Assert.That(spread, Is.EqualTo(expected).Within(1e-4));
        OutputCalibration.Apply(facade, 3);
        Assert.That(Spread(), Is.EqualTo(spread + Math.Log(3)).Within(1e-4));

        var copy = TinyModels.Create(seed: 41, SpanConfig());
        copy.eval();
        OutputCalibration.Apply(copy, 3);
        Assert.That(new FacadeLoss(firstToken, lambda: 1, imitated: copy).Compute(facade, batch).OutputLoss.item<float>(), Is.EqualTo(0).Within(1e-6));
        var other = TinyModels.Create(seed: 42, SpanConfig());
        other.eval();
        Assert.That(new FacadeLoss(firstToken, lambda: 1, imitated: other).Compute(facade, batch).OutputLoss.item<float>(), Is.GreaterThan(1e-3));

        // Imitating the argmax (span tuning): (CE(start) + CE(end)) / 2 over the context at the other model's best span,
        // decoded by the engine's decoder and computed here in float64 from the logits.
        var otherLogits = SpanPredictor.Logits(other, windows.Inputs);
        var facadeLogits = SpanPredictor.Logits(facade, windows.Inputs);
        double byHand = windows.Inputs.Select((input, i) =>
        {
            var (first, last) = SpanDecoding.ContextRange(input);
            var span = SpanDecoding.BestSpan(otherLogits[i].Start, otherLogits[i].End, first, last, SpanDecoding.DefaultMaxAnswerLength);
            double NegativeLogSoftmax(float[] z, int at)
            {
                var context = z[first..(last + 1)].Select(v => (double)v).ToArray();
                double max = context.Max();
                return max + Math.Log(context.Sum(v => Math.Exp(v - max))) - z[at];
            }
            return (NegativeLogSoftmax(facadeLogits[i].Start, span.Start) + NegativeLogSoftmax(facadeLogits[i].End, span.End)) / 2;
        }).Average();
        double argmaxTerm = new FacadeLoss(firstToken, lambda: 1, imitated: other, imitation: ImitationTerm.Prediction).Compute(facade, batch).OutputLoss.item<float>();
        TestContext.Out.WriteLine($"CE at the imitated model's best span: loss {argmaxTerm:F6}, by hand {byHand:F6}");
        Assert.That(argmaxTerm, Is.EqualTo(byHand).Within(1e-4));

        // The margin hinge: max(0, m − (S(ŝ) − max over every other valid span S)), S = start + end logit, ŝ the imitated
        // model's best span, by enumerating the spans here. Against the other model every row is active; against the
        // Facade's own copy a margin at the median gap leaves some rows at zero and trains the others.
        double[] Gaps((float[] Start, float[] End)[] imitatedLogits) => windows.Inputs.Select((input, i) =>
        {
            var (first, last) = SpanDecoding.ContextRange(input);
            int maxLength = SpanDecoding.DefaultMaxAnswerLength;
            var span = SpanDecoding.BestSpan(imitatedLogits[i].Start, imitatedLogits[i].End, first, last, maxLength);
            var (start, end) = (facadeLogits[i].Start, facadeLogits[i].End);
            double runnerUp = double.NegativeInfinity;
            for (int s = first; s <= last; s++)
                for (int e = s; e <= Math.Min(last, s + maxLength - 1); e++)
                    if (s != span.Start || e != span.End) runnerUp = Math.Max(runnerUp, (double)start[s] + end[e]);
            return (double)start[span.Start] + end[span.End] - runnerUp;
        }).ToArray();
        double Hinge(BertClassifier imitated, double margin) =>
            new FacadeLoss(firstToken, lambda: 1, imitated: imitated, imitation: ImitationTerm.SpanMargin, spanMargin: margin).Compute(facade, batch).OutputLoss.item<float>();
        var otherGaps = Gaps(otherLogits);
        double otherHinge = Hinge(other, 1), otherByHand = otherGaps.Average(g => Math.Max(0, 1 - g));
        TestContext.Out.WriteLine($"margin hinge against another model: loss {otherHinge:F6}, by hand {otherByHand:F6}");
        Assert.That(otherHinge, Is.EqualTo(otherByHand).Within(1e-4));
        var ownGaps = Gaps(facadeLogits);
        double median = ownGaps.Order().ElementAt(ownGaps.Length / 2);
        Assert.That(ownGaps.Count(g => g >= median), Is.LessThan(ownGaps.Length), "some rows inside the margin");
        Assert.That(ownGaps.Min(), Is.GreaterThanOrEqualTo(0), "the copy's best span is the Facade's own");
        double ownHinge = Hinge(copy, median), ownByHand = ownGaps.Average(g => Math.Max(0, median - g));
        TestContext.Out.WriteLine($"margin hinge against its own copy at margin {median:F4}: loss {ownHinge:F6}, by hand {ownByHand:F6}");
        Assert.That(ownHinge, Is.EqualTo(ownByHand).Within(1e-4));
        Assert.That(ownHinge, Is.GreaterThan(0));
    }

    /// <summary>
    /// The target-residual Facade loss against two independent computations: the residual against softmax − one-hot by
    /// hand, and the Facade's saliency against its part of a real merge's gradient (its embedding columns) divided by c,
    /// for a Facade output scaled by a small c (float64): what the loss stands for while the Facade is small.
    /// </summary>
    [Test]
    public void TargetResidualLossIsTheFacadesPartOfTheMergedGradient()
    {
        var facade = TinyModels.Create(seed: 51, SpanConfig());
        var target = TinyModels.Create(seed: 52, SpanConfig() with { Hidden = 96, Heads = 3, Intermediate = 192, HiddenGroups = [96] });
        facade.eval();
        target.eval();
        var windows = Split("dev-b", 6).AllWindows();
        using var batch = TensorBatch.Create(windows, Enumerable.Range(0, windows.Count).ToArray());
        var firstToken = FacadeTarget.FirstToken();
        var terms = new FacadeLoss(firstToken, lambda: 1, residualOf: target).Compute(facade, batch);

        var logits = target.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds).detach();
        var predicted = HeadTarget.Predicted(target, batch, logits);
        var residual = predicted.Residual(logits);
        var (start, end) = SpanHead.Masked(logits, SpanHead.ContextMask(batch));
        int length = (int)logits.shape[1];
        var byHandStart = (nn.functional.softmax(start, -1) - nn.functional.one_hot(predicted.Labels, length).to_type(start.dtype)).Times(0.5);
        var byHandEnd = (nn.functional.softmax(end, -1) - nn.functional.one_hot(predicted.SpanEnds!, length).to_type(end.dtype)).Times(0.5);
        Assert.That((residual.select(2, 0) - byHandStart).abs().max().item<float>(), Is.LessThan(1e-6));
        Assert.That((residual.select(2, 1) - byHandEnd).abs().max().item<float>(), Is.LessThan(1e-6));

        // The merge's hidden groups are [Facade, target]: the Facade's part of the saliency is its embedding columns'.
        const double c = 1e-6;
        OutputCalibration.Apply(facade, c);
        using var merged = Merge.Models(facade, target);
        var merged64 = merged.to(ScalarType.Float64);
        var point = merged64.embeddings.Lookup(batch.InputIds).detach();
        var gradient = TorchSaliency.Gradient(merged64, point, batch.AttentionMask, batch.TokenTypeIds, predicted);
        long width = facade.Config.Hidden;
        var facadePart = AttributionShare.TokenSaliency(gradient.narrow(2, 0, width), point.narrow(2, 0, width)).Over(c);
        var mask = batch.PositionMask(firstToken.Positions).to_type(facadePart.dtype);
        double expected = (facadePart.abs() * mask).sum(-1).mean().item<double>();
        double actual = terms.MeanTargetSaliency.item<float>();
        TestContext.Out.WriteLine($"Facade part of the merged first-token saliency: loss {actual:G6}, merge {expected:G6}");
        Assert.That(expected, Is.GreaterThan(0));
        Assert.That(actual, Is.EqualTo(expected).Within(1e-3 * expected));
    }

    [Test]
    public void SpanCalibrationFindsTheLargestScaleThatKeepsTheSpans()
    {
        // Ten windows of eight pieces, context 3..6. The target prefers span (3, 3) by a margin growing with the window
        // index; the Facade prefers (5, 5) by 1 everywhere, so window i flips once the scale exceeds its margin.
        var target = new List<(float[] Start, float[] End)>();
        var facade = new List<(float[] Start, float[] End)>();
        for (int i = 0; i < 10; i++)
        {
            float margin = 0.5f * (i + 1);
            var start = new float[8]; var end = new float[8];
            start[3] = margin; end[3] = margin;
            target.Add((start, end));
            var fs = new float[8]; var fe = new float[8];
            fs[5] = 1; fe[5] = 1;
            facade.Add((fs, fe));
        }
        var contexts = Enumerable.Repeat((3, 6), 10).ToArray();
        // Window i keeps (3, 3) while 2 · margin_i > 2 · c, i.e. c < 0.5 (i + 1): 80% agreement needs the two
        // smallest margins to flip at most, so the boundary is c = 1.5 (window 2's margin).
        double? scale = OutputCalibration.SpanScaleFor(target, facade, contexts, maxAnswerLength: 4, minAgreement: 0.8);
        Assert.That(scale, Is.EqualTo(1.5).Within(0.03));
        Assert.That(OutputCalibration.SpanScaleFor(target, facade, contexts, 4, minAgreement: 1.0), Is.EqualTo(0.5).Within(0.01));
        var stubborn = facade.Select(f => (f.Start.Select(v => v * 1e6f).ToArray(), f.End.Select(v => v * 1e6f).ToArray())).ToArray();
        Assert.That(OutputCalibration.SpanScaleFor(target, stubborn, contexts, 4, minAgreement: 1.0), Is.Null, "no scale keeps every span");
    }

    [Test]
    public void SquadTrainingCommandsWriteSpanCheckpoints()
    {
        string target = Folder("squad-target"), facade = Folder("squad-facade"), refined = Folder("squad-refined"), imitating = Folder("squad-imitating"),
            mergedFolder = Folder("squad-merged"), tuned = Folder("squad-tuned");
        try
        {
            var fine = new FineTuneOptions
            {
                Task = "squad", OutputFolder = target, TrainLimit = 24, EvalLimit = 8, Qa = Short,
                Loop = new LoopSettings { MaxSteps = 2, BatchSize = 8, LearningRate = 5e-5, Seed = 1 },
            };
            var trained = FineTuner.Run(fine, TextWriter.Null);
            var (model, manifest) = Checkpoint.Load(target);
            Assert.That(model.Config.Head, Is.EqualTo(ModelHead.Span));
            Assert.That(manifest.Task, Is.EqualTo("squad"));
            Assert.That(manifest.Metrics.Keys, Does.Contain("dev_f1").And.Contain("dev_em"));
            Assert.That(FineTuner.QaSettingsOf(manifest), Is.EqualTo(Short));
            Assert.That(trained.Steps, Is.EqualTo(2));

            var defaults = new FacadeOptions();
            var result = FacadeTrainer.Run(defaults with
            {
                Task = "squad", OutputFolder = facade, Hidden = 64, Intermediate = 128, TrainLimit = 16, EvalLimit = 8, Qa = Short,
                TargetModel = target, MinAgreement = 0, Loop = defaults.Loop with { MaxSteps = 2, EvaluateEvery = 2, BatchSize = 8 },
            }, TextWriter.Null);
            var (facadeModel, facadeManifest) = Checkpoint.Load(facade);
            Assert.That(facadeModel.Config.Head, Is.EqualTo(ModelHead.Span));
            Assert.That(facadeManifest.Metrics.Keys, Does.Contain("merged_agreement").And.Contain("merged_p_at_1"));
            Assert.That(result.Best.Metrics["merged_agreement"], Is.InRange(0, 1));

            // `facade merge --evaluate` on span models: EM and F1 from the answers, span agreement, saliency on the question.
            var (merged, mergedManifest) = Merge.Checkpoints(facade, target);
            var report = FacadeEffect.ForMerge(target, facade, merged, null, new EffectOptions { Limit = 6, Methods = [new SimpleGradient()] });
            Assert.That(report.Count, Is.EqualTo(6));
            var targetRow = report.Models.Single(m => m.Name == "target");
            Assert.That(targetRow.F1, Is.EqualTo(SpanObjective.Score(model, SquadSplit.Load(RepositoryPaths.ResolveDataRoot(), "dev-b",
                WordPieceTokenizer.MiniLm(), Short, 6), Short, 8).F1).Within(1e-9), "the report's F1 is the evaluation's");
            Assert.That(targetRow.Agreement, Is.EqualTo(1.0), "the reference agrees with itself");
            Assert.That(report.Models.Single(m => m.Name == "merged").Saliency["first-token"]["simple"].HitRate1, Is.InRange(0, 1));
            Assert.That(report.ToMarkdown(), Does.Contain("F1").And.Contain("same span as target"));

            // The refinement the QA recipe runs: the Facade above, trained on the merged saliency against the target.
            var refineOptions = defaults with
            {
                Task = "squad", OutputFolder = refined, Hidden = 64, Intermediate = 128, TrainLimit = 16, EvalLimit = 8, Qa = Short,
                TargetModel = target, MinAgreement = 0, MergedGradient = true, Init = facade,
                Loop = defaults.Loop with { MaxSteps = 2, EvaluateEvery = 2, BatchSize = 8 },
            };
            FacadeTrainer.Run(refineOptions, TextWriter.Null);
            var refinedManifest = Checkpoint.ReadManifest(refined);
            Assert.That(refinedManifest.Settings["merged_gradient"], Is.EqualTo("true"));
            Assert.That(refinedManifest.Sources["initialization"], Is.EqualTo(Path.GetFullPath(facade)));
            Assert.That(() => FacadeTrainer.Run(refineOptions with { Hidden = 32, Intermediate = 64, OutputFolder = Folder("wrong") }, TextWriter.Null),
                Throws.TypeOf<FacadeException>().With.Message.Contains("--init").And.Message.Contains("hidden 64"));
            Assert.That(() => FacadeTrainer.Run(refineOptions with { TargetModel = null }, TextWriter.Null),
                Throws.TypeOf<FacadeException>().With.Message.Contains("--merged-gradient needs --target-model"));

            // An imitating Facade started from the target itself (MiniLM's shape), one step.
            FacadeTrainer.Run(refineOptions with
            {
                OutputFolder = imitating, MergedGradient = false, Imitate = true, Init = target, Hidden = model.Config.Hidden,
                Intermediate = model.Config.Intermediate, Loop = refineOptions.Loop with { MaxSteps = 1, EvaluateEvery = 1 },
            }, TextWriter.Null);
            var imitatingManifest = Checkpoint.ReadManifest(imitating);
            Assert.That(imitatingManifest.Kind, Is.EqualTo("facade"));
            Assert.That(imitatingManifest.Settings["imitate"], Is.EqualTo("true"));
            Assert.That(imitatingManifest.Sources["initialization"], Is.EqualTo(Path.GetFullPath(target)));

            // `facade tune-merge` on the span merge: the target's predictions kept, no dropout, every weight moved.
            Checkpoint.Save(merged, mergedManifest, mergedFolder);
            var tuneDefaults = new MergeTuningOptions { Model = mergedFolder, OutputFolder = tuned };
            var tuning = MergeTuning.Run(tuneDefaults with
            {
                Reference = target, TrainLimit = 8, EvalLimit = 8, MinSpanAgreement = 0,
                Loop = tuneDefaults.Loop with { MaxSteps = 2, BatchSize = 4, EvaluateEvery = 2, LearningRate = 1e-3 },
            }, TextWriter.Null);
            var (tunedModel, tunedManifest) = Checkpoint.Load(tuned);
            Assert.That(tunedManifest.Kind, Is.EqualTo("merged"));
            Assert.That(tunedManifest.Settings["off_diagonal"], Is.EqualTo("fine-tuned"));
            Assert.That(tunedManifest.Settings["tune_dropout"], Is.EqualTo("0"));
            Assert.That(tunedManifest.Settings["tune_span_term"], Is.EqualTo(MergeTuning.KlSpanTerm));
            Assert.That(tunedManifest.Sources["tune_reference"], Is.EqualTo(Path.GetFullPath(target)));
            Assert.That(FineTuner.QaSettingsOf(tunedManifest), Is.EqualTo(Short), "the windows the tuned model was made for");
            Assert.That(tuning.Best.Metrics["dev_span_agreement"], Is.InRange(0, 1));
            var moved = merged.parameters().Zip(tunedModel.parameters(), (a, b) => (a - b).abs().max().item<float>()).ToArray();
            Assert.That(moved.Count(m => m > 1e-6), Is.GreaterThan(moved.Length / 2), "every weight is free");
            Assert.That(() => MergeTuning.Run(tuneDefaults with { Reference = facade + "-missing", OutputFolder = Folder("no-reference") }, TextWriter.Null),
                Throws.TypeOf<FacadeException>().With.Message.Contains("--reference"));
            Assert.That(() => MergeTuning.Run(tuneDefaults with { SpanTerm = MergeTuning.MarginSpanTerm, SpanMargin = 0, OutputFolder = Folder("no-margin") }, TextWriter.Null),
                Throws.TypeOf<FacadeException>().With.Message.Contains("--span-margin 0"));
        }
        finally
        {
            foreach (var folder in new[] { target, facade, refined, imitating, mergedFolder, tuned })
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
