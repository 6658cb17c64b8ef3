using System.Diagnostics;
using System.Globalization;
using System.Text;
using FacadeOnnx.Text;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Loop;

/// <summary>How a finished run went: the chosen checkpoint's evaluation, the step it came from, steps and time in all.</summary>
public sealed record LoopResult(EvaluationResult Best, long BestStep, long Steps, double Seconds, bool Resumed);

/// <summary>
/// The optimization loop every trainer shares: seeded shuffling per epoch, AdamW with warm-up and linear decay,
/// gradient clipping, a progress bar (loss terms, examples per second, time left), evaluation on a schedule with every
/// result logged to evaluations.csv, the best eligible checkpoint saved atomically to the output folder, and a resumable
/// state (weights, optimizer, position) so an interrupted run continues where it stopped.
/// </summary>
public static class TrainingLoop
{
    public const string EvaluationLog = "evaluations.csv";

    /// <param name="manifest">builds the checkpoint manifest from the evaluation that made it the best so far</param>
    /// <param name="complete">finishing work on the chosen checkpoint (such as calibration), run before the resumable
    /// state is removed: if it is interrupted, running again goes straight back to it</param>
    public static LoopResult Run(BertClassifier model, EncodedDataset train, ITrainingObjective objective, LoopSettings settings,
        string outputFolder, Func<EvaluationResult, long, double, CheckpointManifest> manifest, TextWriter? log = null,
        Action<LoopResult>? complete = null)
    {
        log ??= Console.Error;
        settings.Validate();
        if (train.Count == 0) throw new FacadeException($"The training split '{train.Name}' is empty.");
        TorchRuntime.Initialize(settings.Threads);
        Directory.CreateDirectory(outputFolder);
        string resumeFolder = Path.Combine(outputFolder, ResumeState.Folder);

        int stepsPerEpoch = (train.Count + settings.BatchSize - 1) / settings.BatchSize;
        long totalSteps = settings.MaxSteps ?? (long)settings.Epochs * stepsPerEpoch;
        if (totalSteps < 1) throw new FacadeException($"Nothing to train: {totalSteps} steps (check --epochs and --max-steps).");
        long warmup = settings.ConstantLearningRate ? 0 : (long)Math.Round(totalSteps * settings.WarmupFraction);
        string fingerprint = Hashing.Sha256($"{objective.Label}|{settings with { Fresh = false, Threads = null }}|{train.Name}|{train.Count}|{model.Config}");

        var optimizer = CreateOptimizer(model, settings);
        var state = new ResumeState { Fingerprint = fingerprint };
        var previous = ResumeState.TryRead(outputFolder);
        bool resumed = false;
        if (previous != null && !settings.Fresh)
        {
            if (previous.Fingerprint != fingerprint)
                throw new FacadeException(
                    $"'{outputFolder}' holds an interrupted run with different settings or data. Use the same settings to resume it, " +
                    "pass --fresh to discard it, or choose another --out folder.");
            model.load(Path.Combine(resumeFolder, ResumeState.WeightsFile));
            string optimizerState = Path.Combine(resumeFolder, ResumeState.OptimizerFile);
            if (File.Exists(optimizerState)) optimizer.load_state_dict(optimizerState);
            state = previous;
            resumed = true;
            log.WriteLine($"Resuming the interrupted run in {outputFolder} at step {state.Step} of {totalSteps}.");
        }
        else if (previous != null)
            Directory.Delete(resumeFolder, recursive: true);

        manual_seed(settings.Seed + state.Step);
        var clock = Stopwatch.StartNew();
        double elapsedBefore = state.ElapsedSeconds;
        EvaluationResult? best = null;
        var terms = new Dictionary<string, double>();
        int[][] batches = [];
        int batchesEpoch = -1;
        var averages = new Dictionary<string, double>();

        // The bar draws interactively on the console; a caller's own log (a test's TextWriter.Null) gets its lines instead.
        using (var progress = new ProgressBar(objective.Label, totalSteps * settings.BatchSize, "ex", state.Step * settings.BatchSize,
                   ReferenceEquals(log, Console.Error) ? null : log))
        {
            model.train();
            for (long step = state.Step; step < totalSteps; step++)
            {
                int epoch = (int)(step / stepsPerEpoch);
                int position = (int)(step % stepsPerEpoch);
                if (epoch != batchesEpoch) (batches, batchesEpoch) = (EpochBatches(train, settings.BatchSize, settings.Seed, epoch), epoch);
                var indices = batches[position];

                SetLearningRate(optimizer, settings.LearningRate * Schedule(step, warmup, totalSteps, settings.ConstantLearningRate));
                using (var scope = NewDisposeScope())
                {
                    using var batch = TensorBatch.Create(train, indices);
                    optimizer.zero_grad();
                    terms.Clear();
                    var loss = objective.Loss(model, batch, terms);
                    loss.backward();
                    if (settings.ClipNorm > 0) nn.utils.clip_grad_norm_(model.parameters(), settings.ClipNorm);
                    optimizer.step();
                    if (!terms.ContainsKey("loss")) terms["loss"] = loss.item<float>();
                }
                foreach (var (k, v) in terms)
                    averages[k] = averages.TryGetValue(k, out var a) && double.IsFinite(a) ? 0.95 * a + 0.05 * v : v;
                if (!double.IsFinite(terms["loss"]))
                    throw new FacadeException($"The loss became {terms["loss"]} at step {step + 1}; lower --lr or check the data.");

                long done = step + 1;
                progress.Advance(indices.Length,
                    $"epoch {epoch + 1}/{(totalSteps + stepsPerEpoch - 1) / stepsPerEpoch} | " +
                    string.Join(" ", averages.Select(kv => $"{kv.Key} {kv.Value:G3}")));

                bool evaluate = done == totalSteps ||
                                (settings.EvaluateEvery > 0 ? done % settings.EvaluateEvery == 0 : done % stepsPerEpoch == 0);
                double elapsed = elapsedBefore + clock.Elapsed.TotalSeconds;
                if (evaluate)
                {
                    model.eval();
                    var result = objective.Evaluate(model);
                    model.train();
                    state.Evaluations.Add(new Dictionary<string, double>(result.Metrics) { ["step"] = done, ["score"] = result.Score, ["eligible"] = result.Eligible ? 1 : 0 });
                    WriteEvaluationLog(outputFolder, state.Evaluations);
                    bool better = state.BestScore == null
                                  || (result.Eligible && !state.BestEligible)
                                  || (result.Eligible == state.BestEligible && result.Score > state.BestScore);
                    string mark = "";
                    if (better)
                    {
                        Checkpoint.Save(model, manifest(result, done, elapsed), outputFolder);
                        state = state with { BestScore = result.Score, BestEligible = result.Eligible, BestStep = done };
                        best = result;
                        mark = " (best so far: saved)";
                    }
                    progress.WriteLine($"step {done}: {result.Summary}{mark}");
                }
                if (evaluate || done % settings.SaveResumeEvery == 0)
                {
                    state = state with { Step = done, ElapsedSeconds = elapsed };
                    SaveResume(model, optimizer, state, resumeFolder);
                }
            }
        }

        double seconds = elapsedBefore + clock.Elapsed.TotalSeconds;
        if (best == null)
        {
            // Resumed after the best checkpoint was written: report it from the log.
            var row = state.Evaluations.First(e => (long)e["step"] == state.BestStep);
            best = new EvaluationResult(row["score"], row["eligible"] > 0, row, $"step {state.BestStep}");
        }
        if (!state.BestEligible)
            log.WriteLine("Warning: no evaluation met the objective's eligibility guard; the saved checkpoint is the best-scoring one.");
        var outcome = new LoopResult(best, state.BestStep, totalSteps, seconds, resumed);
        complete?.Invoke(outcome);
        Directory.Delete(resumeFolder, recursive: true);
        return outcome;
    }

    /// <summary>
    /// The batches of epoch <paramref name="epoch"/>, as AllenNLP's bucket sampler forms them: a seeded shuffle, then
    /// within windows of 50 batches the examples are sorted by length and cut into batches (little padding), and the
    /// batch order is shuffled again. Seeded per epoch, so a resumed run sees the same batches.
    /// </summary>
    public static int[][] EpochBatches(EncodedDataset data, int batchSize, long seed, int epoch)
    {
        ulong epochSeed = unchecked((ulong)seed * 1_000_003UL + (ulong)epoch);
        int[] order = SplitMix64.Permutation(data.Count, epochSeed);
        var batches = new List<int[]>();
        int window = batchSize * 50;
        for (int start = 0; start < order.Length; start += window)
        {
            var sorted = order.Skip(start).Take(window).OrderBy(i => data.Inputs[i].Length).ThenBy(i => i).ToArray();
            for (int b = 0; b < sorted.Length; b += batchSize) batches.Add(sorted[b..Math.Min(b + batchSize, sorted.Length)]);
        }
        int[] batchOrder = SplitMix64.Permutation(batches.Count, epochSeed ^ 0x5bd1e995UL);
        return batchOrder.Select(i => batches[i]).ToArray();
    }

    static double Schedule(long step, long warmup, long total, bool constant)
    {
        if (constant) return 1;
        if (step < warmup) return (step + 1.0) / warmup;
        return Math.Max(0, (double)(total - step) / Math.Max(1, total - warmup));
    }

    static AdamW CreateOptimizer(BertClassifier model, LoopSettings settings)
    {
        var decay = new List<Parameter>();
        var plain = new List<Parameter>();
        foreach (var (name, p) in model.named_parameters())
            (name.EndsWith(".bias") || name.Contains("norm.") ? plain : decay).Add(p);
        var groups = new List<AdamW.ParamGroup>
        {
            new(decay, settings.LearningRate, 0.9, 0.999, 1e-8, settings.WeightDecay, false, false),
            new(plain, settings.LearningRate, 0.9, 0.999, 1e-8, 0.0, false, false),
        };
        return optim.AdamW(groups, settings.LearningRate);
    }

    static void SetLearningRate(AdamW optimizer, double lr)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
    }

    static void SaveResume(BertClassifier model, AdamW optimizer, ResumeState state, string folder)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteVia(Path.Combine(folder, ResumeState.WeightsFile), p => model.save(p));
        AtomicFile.WriteVia(Path.Combine(folder, ResumeState.OptimizerFile), p => optimizer.save_state_dict(p));
        AtomicFile.WriteAllText(Path.Combine(folder, ResumeState.StateFile), state.ToJson());
    }

    static void WriteEvaluationLog(string folder, List<Dictionary<string, double>> rows)
    {
        var columns = rows.SelectMany(r => r.Keys).Distinct().OrderBy(k => k == "step" ? "" : k).ToList();
        var text = new StringBuilder(string.Join(",", columns)).Append('\n');
        foreach (var row in rows)
            text.Append(string.Join(",", columns.Select(c => row.TryGetValue(c, out var v) ? v.ToString("G6", CultureInfo.InvariantCulture) : ""))).Append('\n');
        AtomicFile.WriteAllText(Path.Combine(folder, EvaluationLog), text.ToString());
    }
}
