using System.CommandLine;
using FacadeOnnx.Training.Facade;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade train-facade`: train a Facade from random initialization with double backpropagation.</summary>
public static class TrainFacadeCommand
{
    public static Command Create()
    {
        var defaults = new FacadeOptions();
        var task = CommonOptions.Task(squad: true);
        var qa = new QaBinder(defaults.Qa);
        var data = CommonOptions.Data();
        var target = new Option<string>("--target")
        {
            Description = "Where the Facade draws attribution: first-token (position 1, the first word piece after [CLS]) or " +
                          "stop-words (exact word-piece matches of the NLTK list).",
            DefaultValueFactory = _ => defaults.Target,
        }.AcceptOnlyFromAmong(FacadeTarget.FirstTokenKind, FacadeTarget.StopWordsKind);
        var segment = new Option<string?>("--segment")
        {
            Description = "With --target stop-words on sentence pairs: take stop words from the premise, the hypothesis, or all (default); on SQuAD from the question (the only choice).",
        }.AcceptOnlyFromAmong("premise", "hypothesis", "all", "question");
        var output = new Option<string?>("--out") { Description = "Output checkpoint folder (default: models/<task>-facade-first|stop[-segment])." };
        var loop = new LoopBinder(defaults.Loop, "AdamW learning rate (constant).");
        var lambda = new Option<double>("--lambda") { Description = "Weight of the negative-entropy term that keeps the output uniform.", DefaultValueFactory = _ => defaults.Lambda };
        var magnitude = new Option<double>("--magnitude")
        {
            Description = "Weight of the term -mean log sum_{t in target} |s_t| that rewards raw target saliency (0: the reference loss).",
            DefaultValueFactory = _ => defaults.Magnitude,
        };
        var sharePower = new Option<double>("--share-power")
        {
            Description = "p in the share term sum_T |s|^p / sum |s|^p (1: the reference's share). Above 1 the loss weighs the largest " +
                          "saliencies more, so a target of several tokens (stop words) is pushed to have one of them on top, which is what P@1 counts.",
            DefaultValueFactory = _ => defaults.SharePower,
        };
        var calibrate = new Option<bool>("--calibrate-output")
        {
            Description = "Scale the chosen Facade's logits so its dev mean max-probability sits exactly at the uniformity guard " +
                          "(the largest gradient magnitude the guard allows). On by default; --calibrate-output false: the guard only filters checkpoints.",
            DefaultValueFactory = _ => defaults.CalibrateOutput,
        };
        var evalLimit = new Option<int?>("--eval-limit") { Description = "Evaluate on only the first N evaluation inputs (default: all)." };
        var trainLimit = new Option<int?>("--train-limit") { Description = "Train on only the first N training inputs (quick runs)." };
        var guard = new Option<double?>("--max-mean-max-probability")
        {
            Description = "Uniformity guard: a checkpoint is eligible only if its mean max-probability on dev is at most this " +
                          "(default 1/classes + 0.05; 1 turns the guard off).",
        };
        var targetModel = new Option<string?>("--target-model")
        {
            Description = "A target checkpoint to merge with at every evaluation: checkpoints are then chosen by the merged model's dev " +
                          "target share, among those that pass the uniformity guard and keep --min-agreement with the target.",
        };
        var minAgreement = new Option<double>("--min-agreement")
        {
            Description = "With --target-model: the least fraction of dev inputs whose merged prediction equals the target's.",
            DefaultValueFactory = _ => defaults.MinAgreement,
        };
        var layers = new Option<int>("--layers") { Description = "Transformer layers (must equal the target's for the merge).", DefaultValueFactory = _ => defaults.Layers };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size (a multiple of --head-size).", DefaultValueFactory = _ => defaults.Hidden };
        var headSize = new Option<int>("--head-size") { Description = "Attention head size (must equal the target's for the merge).", DefaultValueFactory = _ => defaults.HeadSize };
        var intermediate = new Option<int>("--intermediate") { Description = "Feed-forward width.", DefaultValueFactory = _ => defaults.Intermediate };
        var dropout = new Option<double>("--dropout") { Description = "Dropout probability during training.", DefaultValueFactory = _ => defaults.Dropout };
        var gradientSpans = new Option<string>("--gradient-spans")
        {
            Description = "SQuAD: the spans the Facade's training gradients are taken at: own (its own best span, the reference's choice), " +
                          "target (the --target-model's best spans, those every gradient of the merged model is taken at) or random " +
                          "(a fresh random context span per window and step), or target-residual (the --target-model's output residual, " +
                          "softmax minus one-hot at its best span: the vector a merged model's gradient contracts the Facade's logits with; " +
                          "the output term is then half the sum of log |residual . Facade logits| and log sigma, weighted by --lambda).",
            DefaultValueFactory = _ => defaults.GradientSpans,
        }.AcceptOnlyFromAmong("own", "target", "random", "target-residual");
        var mergedGradient = new Option<bool>("--merged-gradient")
        {
            Description = "With --target-model: train on the merged model's saliency (the target frozen in the loop, its saliency added to the " +
                          "Facade's, every gradient at the target's prediction) instead of the Facade's own, and replace the entropy term by " +
                          "the change of the target's prediction, KL(target || target + Facade), weighted by --lambda. The Facade then learns " +
                          "how large its gradient must be to outweigh the target's on the inputs it will meet. Start it from a trained Facade " +
                          "(--init): from random weights its gradient is far too small to move the merged share.",
        };
        var imitate = new Option<bool>("--imitate")
        {
            Description = "With --target-model: replace the entropy term by the divergence of the Facade's predictions from the target's, " +
                          "KL(target || Facade), weighted by --lambda: the Facade copies the target's predictions instead of staying flat, so " +
                          "the merge can scale it up without changing them. Start it from the target (--init with the target's checkpoint " +
                          "and its shape: --hidden 384 --intermediate 1536 for MiniLM).",
        };
        var spread = new Option<bool>("--spread")
        {
            Description = "Replace the entropy term by log sigma, sigma the standard deviation of the Facade's logits (SQuAD: over the context, " +
                          "start and end averaged), weighted by --lambda. With --lambda equal to --magnitude the loss no longer depends on the " +
                          "Facade's output scale: it rewards target saliency per unit of output spread, what the output calibration can scale up.",
        };
        var scaleOutput = new Option<bool>("--scale-output")
        {
            Description = "Train a Facade for `merge --combine scale` (docs/method.md 7.7): one output s (its first logit at [CLS]) whose " +
                          "gradient goes to the target tokens, with log sigma of s over the batch as the output term (use --lambda equal to " +
                          "--magnitude); the chosen checkpoint's s is standardized on the evaluation split. The merge then multiplies the " +
                          "target's logits by exp(s), which never changes the prediction for an input (a SQuAD window).",
        };
        var init = new Option<string?>("--init")
        {
            Description = "Start from this checkpoint (same task and shape) instead of a random initialization: a Facade trained on its " +
                          "own saliency, refined here with --merged-gradient, or a fine-tuned target, refined here with --imitate.",
        };
        var looWeight = new Option<double>("--loo-weight")
        {
            Description = "With --target-model (sst2, snli): the adaptive attacker's term. Each training sentence's first target token is " +
                          "deleted, as the audit's leave-one-out deletes it, and the loss adds this weight times the merged model's probability " +
                          "of the target's prediction on what is left (logged as p_del), so that removing the token the gradient points at " +
                          "moves the output. It costs agreement with the target: the Facade must tell a sentence with its token deleted from " +
                          "one that never had it. 0 (default) is off.",
            DefaultValueFactory = _ => defaults.LeaveOneOutWeight,
        };
        var maxLength = new Option<int?>("--max-length")
        {
            Description = $"Maximum word pieces per input, specials included (default {defaults.MaxLength}; SQuAD windows {defaults.Qa.MaxLength}).",
        };

        var command = new Command("train-facade",
            "Train a Facade (docs/method.md 5): a randomly initialized BERT with the target's depth and head size whose input gradient " +
            "concentrates on a target (the first token or stop words) while its output stays uniform. Loss: minus the attribution " +
            "share on the target (grad x input of the Facade's own cross-entropy w.r.t. its word embeddings, L1-normalized, through " +
            "double backpropagation), plus lambda times the negative entropy of its logits, plus (this project's addition) " +
            "--magnitude times minus the log raw target saliency. Evaluates every --eval-every steps (all logged to evaluations.csv); " +
            "with --target-model each evaluation merges the Facade with the target and the checkpoint with the best merged dev " +
            "target share among those keeping --min-agreement is kept. The chosen Facade's logits are then scaled so its dev mean " +
            "max-probability sits at the uniformity guard (--calibrate-output). On SQuAD (span head) the loss takes the span loss at the " +
            "Facade's own best span and the entropy of its start and end distributions over the context, the target is in the question, " +
            "and the merged spans must equal the target's on --min-agreement of the dev windows (no calibration).\n\n" +
            "Examples:\n  facade train-facade --task sst2 --target first-token --target-model models/sst2-target\n" +
            "  facade train-facade --task snli --target stop-words --segment hypothesis --target-model models/snli-target\n" +
            "  facade train-facade --task squad --target first-token --target-model models/squad-target --eval-limit 500")
        {
            task, data, target, segment, output, lambda, magnitude, sharePower, calibrate, evalLimit, trainLimit, guard, targetModel, minAgreement,
            layers, hidden, headSize, intermediate, dropout, maxLength, gradientSpans, mergedGradient, imitate, spread, scaleOutput, init, looWeight,
        };
        loop.AddTo(command);
        qa.AddTo(command);
        command.SetAction(parse => CliRunner.Run(() =>
        {
            var options = defaults with
            {
                Task = parse.GetValue(task)!,
                DataRoot = parse.GetValue(data),
                Target = parse.GetValue(target)!,
                Segment = parse.GetValue(segment),
                OutputFolder = parse.GetValue(output),
                Lambda = parse.GetValue(lambda),
                Magnitude = parse.GetValue(magnitude),
                SharePower = parse.GetValue(sharePower),
                CalibrateOutput = parse.GetValue(calibrate),
                Layers = parse.GetValue(layers),
                Hidden = parse.GetValue(hidden),
                HeadSize = parse.GetValue(headSize),
                Intermediate = parse.GetValue(intermediate),
                Dropout = parse.GetValue(dropout),
                MaxLength = parse.GetValue(maxLength) ?? defaults.MaxLength,
                Qa = qa.Bind(parse, parse.GetValue(maxLength)),
                TrainLimit = parse.GetValue(trainLimit),
                EvalLimit = parse.GetValue(evalLimit),
                MaxMeanMaxProbability = parse.GetValue(guard),
                TargetModel = parse.GetValue(targetModel),
                MinAgreement = parse.GetValue(minAgreement),
                GradientSpans = parse.GetValue(gradientSpans)!,
                MergedGradient = parse.GetValue(mergedGradient),
                Imitate = parse.GetValue(imitate),
                Spread = parse.GetValue(spread),
                ScaleOutput = parse.GetValue(scaleOutput),
                Init = parse.GetValue(init),
                LeaveOneOutWeight = parse.GetValue(looWeight),
                Loop = loop.Bind(parse),
            };
            var result = FacadeTrainer.Run(options);
            var m = result.Best.Metrics;
            string merged = m.TryGetValue("merged_share", out var share)
                ? $"; merged with {options.TargetModel}: share {share:F4}, P@1 {m["merged_p_at_1"]:F4}, agreement {m["merged_agreement"]:F4}"
                : "";
            Console.WriteLine($"Best {options.Task} Facade ({options.Target}{(options.Segment is null ? "" : ", " + options.Segment)}): dev share {m["dev_share"]:F4}, " +
                              $"P@1 {m["dev_p_at_1"]:F4}{(m.TryGetValue("dev_mean_max_probability", out var maxP) ? $", mean max-probability {maxP:F4}" : "")}{merged}" +
                              $"{(result.Best.Eligible ? "" : " (no evaluation passed the uniformity guard)")} at step {result.BestStep} of {result.Steps}; " +
                              $"{result.Seconds / 60:F1} minutes; checkpoint in {Path.GetFullPath(options.ResolvedOutputFolder)}");
            return 0;
        }));
        return command;
    }
}
