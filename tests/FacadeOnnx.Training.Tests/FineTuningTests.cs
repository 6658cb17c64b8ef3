using System.Diagnostics;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.FineTuning;
using FacadeOnnx.Training.Loop;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Tests;

/// <summary>The fine-tuning loop on real SST-2 sentences with a tiny model: learning, checkpoints, resumption, errors.</summary>
[TestFixture]
public class FineTuningTests
{
    static EncodedDataset Sst2(string split, int count) =>
        EncodedDataset.Encode(Tasks.Sst2.Load(RepositoryPaths.ResolveDataRoot(), split), WordPieceTokenizer.MiniLm(), 64, count);

    static string Folder() => Path.Combine(Path.GetTempPath(), "facade-finetune-" + Guid.NewGuid().ToString("N")[..8]);

    static CheckpointManifest Manifest(BertClassifier model, EvaluationResult result, long step) =>
        TinyModels.Manifest(model) with { DevAccuracy = result.Metrics["dev_accuracy"], Steps = step };

    /// <summary>Records the training loss of every step.</summary>
    sealed class RecordingObjective(ClassificationObjective inner, List<double> losses, int? failAtStep = null) : ITrainingObjective
    {
        public string Label => inner.Label;
        public Tensor Loss(BertClassifier model, TensorBatch batch, IDictionary<string, double> terms)
        {
            if (losses.Count + 1 == failAtStep) throw new OperationCanceledException("simulated interruption");
            var loss = inner.Loss(model, batch, terms);
            losses.Add(loss.item<float>());
            return loss;
        }
        public EvaluationResult Evaluate(BertClassifier model) => inner.Evaluate(model);
    }

    static LoopSettings Settings => new() { MaxSteps = 40, BatchSize = 16, LearningRate = 2e-3, WarmupFraction = 0.1, EvaluateEvery = 20, SaveResumeEvery = 10, Seed = 3 };

    [Test]
    public void TrainingLossFallsAndTheCheckpointRoundTrips()
    {
        var train = Sst2("train", 320);
        var dev = Sst2("dev", 64);
        var model = TinyModels.Create(seed: 31);
        var losses = new List<double>();
        string folder = Folder();
        var objective = new RecordingObjective(new ClassificationObjective("tiny sst2", dev, 64), losses);
        var result = TrainingLoop.Run(model, train, objective, Settings, folder, (r, step, _) => Manifest(model, r, step), TextWriter.Null);

        Assert.That(losses, Has.Count.EqualTo(40));
        // Mean loss of the last 10 steps against the first 10: a real drop, not noise (batches of 16 real sentences).
        Assert.That(losses.TakeLast(10).Average(), Is.LessThan(losses.Take(10).Average() - 0.05));
        Assert.That(File.ReadAllLines(Path.Combine(folder, TrainingLoop.EvaluationLog)), Has.Length.EqualTo(3), "header + two evaluations");
        Assert.That(Directory.Exists(Path.Combine(folder, ResumeState.Folder)), Is.False, "the resumable state is removed at the end");

        var (loaded, manifest) = Checkpoint.Load(folder);
        Assert.That(manifest.Steps, Is.EqualTo(result.BestStep));
        Assert.That(manifest.DevAccuracy, Is.EqualTo(result.Best.Metrics["dev_accuracy"]));
        var chosen = Evaluation.Predictor.Logits(loaded, dev.Inputs);
        // The chosen checkpoint reproduces the logits of the evaluation it was chosen at, bit for bit when reloaded twice.
        var again = Evaluation.Predictor.Logits(Checkpoint.Load(folder).Model, dev.Inputs);
        Assert.That(again, Is.EqualTo(chosen));
        double accuracy = Evaluation.Predictor.Accuracy(Evaluation.Predictor.Predictions(chosen), dev.Labels);
        Assert.That(accuracy, Is.EqualTo(result.Best.Metrics["dev_accuracy"]));
    }

    [Test]
    public void InterruptedTrainingResumesFromItsLastState()
    {
        var train = Sst2("train", 320);
        var dev = Sst2("dev", 32);
        string folder = Folder();
        var first = new List<double>();
        var model = TinyModels.Create(seed: 32);
        Assert.Throws<OperationCanceledException>(() => TrainingLoop.Run(model, train,
            new RecordingObjective(new ClassificationObjective("tiny sst2", dev, 64), first, failAtStep: 16), Settings, folder,
            (r, step, _) => Manifest(model, r, step), TextWriter.Null));
        Assert.That(ResumeState.TryRead(folder)!.Step, Is.EqualTo(10), "state saved every 10 steps");

        var rest = new List<double>();
        var log = new StringWriter();
        var fresh = TinyModels.Create(seed: 99);   // different weights: the resumed run must load its own
        var result = TrainingLoop.Run(fresh, train, new RecordingObjective(new ClassificationObjective("tiny sst2", dev, 64), rest), Settings, folder,
            (r, step, _) => Manifest(fresh, r, step), log);
        Assert.That(log.ToString(), Does.Contain("Resuming the interrupted run").And.Contain("at step 10 of 40"));
        Assert.That(rest, Has.Count.EqualTo(30), "only the remaining steps run");
        Assert.That(result.Resumed, Is.True);
        Assert.That(rest[0], Is.EqualTo(first[10]).Within(0.25), "step 11 continues from the step-10 weights (dropout differs)");
    }

    [Test]
    public void ResumingWithOtherSettingsIsRefused()
    {
        var train = Sst2("train", 64);
        var dev = Sst2("dev", 16);
        string folder = Folder();
        var model = TinyModels.Create(seed: 33);
        Assert.Throws<OperationCanceledException>(() => TrainingLoop.Run(model, train,
            new RecordingObjective(new ClassificationObjective("tiny sst2", dev, 64), [], failAtStep: 12), Settings, folder,
            (r, step, _) => Manifest(model, r, step), TextWriter.Null));
        var error = Assert.Throws<FacadeException>(() => TrainingLoop.Run(model, train,
            new ClassificationObjective("tiny sst2", dev, 64), Settings with { LearningRate = 1e-3 }, folder, (r, step, _) => Manifest(model, r, step), TextWriter.Null));
        Assert.That(error!.Message, Does.Contain("--fresh"));
    }

    [Test]
    public void AFolderThatIsNotACheckpointIsNamed()
    {
        string folder = Folder();
        Directory.CreateDirectory(folder);
        var error = Assert.Throws<FacadeException>(() => Checkpoint.Load(folder));
        Assert.That(error!.Message, Does.Contain(folder).And.Contain("manifest.json"));
        Assert.That(Assert.Throws<FacadeException>(() => Checkpoint.Load(folder + "-missing"))!.Message, Does.Contain("does not exist"));
    }

    [Test]
    public void UnknownTaskListsTheKnownOnes()
    {
        var error = Assert.Throws<FacadeException>(() => FineTuner.Run(new FineTuneOptions { Task = "mnli" }, TextWriter.Null));
        Assert.That(error!.Message, Does.Contain("mnli").And.Contain("sst2").And.Contain("snli"));
    }

    [Test]
    public void LibTorchLoadsThanksToThePatchedShim()
    {
        TorchRuntime.Initialize();
        Assert.That(ones(2, 3).sum().item<float>(), Is.EqualTo(6f));
        string shim = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        Assert.That(File.Exists(shim), shim);
        var readelf = Process.Start(new ProcessStartInfo("readelf", ["-VW", shim]) { RedirectStandardOutput = true })!;
        string versions = readelf.StandardOutput.ReadToEnd();
        readelf.WaitForExit();
        Assert.That(versions, Does.Match(@"Name: GLIBCXX_3\.4\.32\s+Flags: WEAK"), "the build step marked the GLIBCXX_3.4.32 need weak");
    }
}
