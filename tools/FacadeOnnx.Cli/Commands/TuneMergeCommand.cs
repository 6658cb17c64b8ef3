using System.CommandLine;
using FacadeOnnx.Training.Facade;
using FacadeOnnx.Training.Merging;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade tune-merge`: the fine-tuned disguise, a merged classifier trained on with every weight free (<see cref="MergeTuning"/>).</summary>
public static class TuneMergeCommand
{
    public static Command Create()
    {
        var defaults = new MergeTuningOptions { Model = "", OutputFolder = "" };
        var model = new Option<string>("--model") { Description = "Merged checkpoint folder (facade merge, or facade disguise's output), or a target (facade train) for the single-network manipulation.", Required = true };
        var output = new Option<string>("--out") { Description = "Output checkpoint folder for the tuned model.", Required = true };
        var data = CommonOptions.Data();
        var target = new Option<string>("--target")
        {
            Description = "The Facade's target, which the saliency term keeps: first-token or stop-words.",
            DefaultValueFactory = _ => defaults.Target,
        }.AcceptOnlyFromAmong(FacadeTarget.FirstTokenKind, FacadeTarget.StopWordsKind);
        var segment = new Option<string?>("--segment") { Description = "With --target stop-words on sentence pairs: premise, hypothesis or all (default)." }
            .AcceptOnlyFromAmong("premise", "hypothesis", "all");
        var weight = new Option<double>("--saliency-weight")
        {
            Description = "α in CE + α · (−share on the target) (SQuAD: --span-term + α · (−share)): how hard the tuning keeps " +
                          "the manipulation (0: the task loss alone; SQuAD needs α > 0).",
            DefaultValueFactory = _ => defaults.SaliencyWeight,
        };
        var maxDrop = new Option<double>("--max-accuracy-drop")
        {
            Description = "Classifiers: a checkpoint is eligible while its dev accuracy is at most this far below the starting model's.",
            DefaultValueFactory = _ => defaults.MaxAccuracyDrop,
        };
        var minAgreement = new Option<double>("--min-agreement")
        {
            Description = "SQuAD: a checkpoint is eligible while at least this share of its dev-b best spans equal the reference's (--reference, else the starting model).",
            DefaultValueFactory = _ => defaults.MinSpanAgreement,
        };
        var reference = new Option<string?>("--reference")
        {
            Description = "SQuAD: the checkpoint whose best spans are the labels and the agreement's reference (default: the starting " +
                          "model); give a merge's target to keep the target's spans.",
        };
        var spanTerm = new Option<string>("--span-term")
        {
            Description = "SQuAD: the task term that keeps the reference's spans: kl (from its start/end distributions over the context), " +
                          "best-span (the cross-entropy at its own best span) or margin (a hinge that trains only the windows whose best " +
                          "span wins by less than --span-margin).",
            DefaultValueFactory = _ => defaults.SpanTerm,
        }.AcceptOnlyFromAmong(MergeTuning.KlSpanTerm, MergeTuning.BestSpanTerm, MergeTuning.MarginSpanTerm);
        var spanMargin = new Option<double>("--span-margin")
        {
            Description = "SQuAD with --span-term margin: how far, in logits of start + end, the reference's best span must beat every other span.",
            DefaultValueFactory = _ => defaults.SpanMargin,
        };
        var dropout = new Option<double?>("--dropout")
        {
            Description = "Dropout while tuning (default: the checkpoint's for classifiers, 0 for SQuAD, which keeps the start's deterministic predictions).",
        };
        var trainLimit = new Option<int?>("--train-limit") { Description = "Train on only the first N training inputs (SQuAD: the windows of the first N dev-a questions)." };
        var evalLimit = new Option<int?>("--eval-limit") { Description = "Dev inputs per evaluation (SQuAD: the first window of each of the first N dev-b questions).", DefaultValueFactory = _ => defaults.EvalLimit };
        var loop = new LoopBinder(defaults.Loop, "AdamW learning rate (constant, weight decay 0.01).");
        var command = new Command("tune-merge",
            "Disguise a merged model by training it further with every weight free (issue 14, docs/method.md 7.6): the task's " +
            "cross-entropy on its training split plus --saliency-weight times the Facade's saliency term (minus the attribution share " +
            "on --target, double backpropagation), so no off-diagonal weight stays exactly zero while predictions and the manipulation " +
            "are kept. Evaluates every --eval-every steps; keeps the checkpoint with the best dev target share among those whose dev " +
            "accuracy stays within --max-accuracy-drop of the start. Writes a merged checkpoint (off_diagonal: fine-tuned); resumes. " +
            "Given a clean target instead of a merge, the same loss manipulates that one network's own gradients: an attacker with no " +
            "merge and no blocks (kind tuned-target). SQuAD span models train on every dev-a window with --span-term keeping the " +
            "reference's predictions (the starting model, or --reference; answers unused: no span may change), and a checkpoint is " +
            "eligible while --min-agreement of its dev-b best spans are the reference's.\n\n" +
            "Examples:\n  facade tune-merge --model runs/sst2-quick/merged --out runs/sst2-quick/merged-tuned --max-steps 300\n" +
            "  facade tune-merge --model runs/sst2-quick/target --out runs/sst2-quick/target-tuned --max-steps 300\n" +
            "  facade tune-merge --model runs/squad-quick/merged --out runs/squad-quick/merged-tuned --reference runs/squad-quick/target " +
            "--max-steps 300 --batch 8 --eval-limit 100")
        {
            model, output, data, target, segment, weight, maxDrop, minAgreement, reference, spanTerm, spanMargin, dropout, trainLimit, evalLimit,
        };
        loop.AddTo(command);
        command.SetAction(parse => CliRunner.Run(() =>
        {
            var options = defaults with
            {
                Model = parse.GetValue(model)!, OutputFolder = parse.GetValue(output)!, DataRoot = parse.GetValue(data),
                Target = parse.GetValue(target)!, Segment = parse.GetValue(segment), SaliencyWeight = parse.GetValue(weight),
                MaxAccuracyDrop = parse.GetValue(maxDrop), MinSpanAgreement = parse.GetValue(minAgreement), Dropout = parse.GetValue(dropout), Reference = parse.GetValue(reference), SpanTerm = parse.GetValue(spanTerm)!, SpanMargin = parse.GetValue(spanMargin), TrainLimit = parse.GetValue(trainLimit), EvalLimit = parse.GetValue(evalLimit),
                Loop = loop.Bind(parse),
            };
            if (Path.GetFullPath(options.Model).TrimEnd('/') == Path.GetFullPath(options.OutputFolder).TrimEnd('/'))
                throw new FacadeException($"--out '{options.OutputFolder}' is the --model folder; write the tuned model to another folder.");
            var result = MergeTuning.Run(options);
            string kind = FacadeOnnx.Training.Checkpoints.Checkpoint.ReadManifest(options.OutputFolder).Kind == MergeTuning.TunedTargetKind ? "target" : "merge";
            Console.WriteLine($"Tuned {kind}: {result.Best.Summary} at step {result.BestStep} of {result.Steps}" +
                              $"{(result.Best.Eligible ? "" : " (no checkpoint was eligible)")}; {result.Seconds / 60:F1} minutes; " +
                              $"checkpoint in {Path.GetFullPath(options.OutputFolder)}");
            return 0;
        }));
        return command;
    }
}
