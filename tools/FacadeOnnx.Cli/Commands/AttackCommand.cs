using System.CommandLine;
using System.Text.Json;
using FacadeOnnx.Runtime;
using FacadeOnnx.Runtime.Attacks;
using FacadeOnnx.Text;

namespace FacadeOnnx.Cli.Commands;

/// <summary>`facade attack`: input reduction or HotFlip on one text, with the full trace.</summary>
public static class AttackCommand
{
    public static Command Create()
    {
        var text = new TextArguments();
        var engine = new EngineBinder();
        var method = new Option<string>("--method") { Description = "reduction (Feng et al. 2018) or hotflip (Ebrahimi et al. 2018).", Required = true }
            .AcceptOnlyFromAmong(AnalysisAttribute.NameOf<InputReduction>(), AnalysisAttribute.NameOf<HotFlip>());
        var json = new Option<bool>("--json") { Description = "Print the result and its trace as JSON." };
        var beam = new Option<int>("--beam") { Description = "Input-reduction beam size.", DefaultValueFactory = _ => new InputReductionOptions().BeamSize };
        var segment = new Option<Segment>("--segment") { Description = "For pairs: attack All tokens, only the First (premise) or the Second (hypothesis).", DefaultValueFactory = _ => Segment.All };
        var maxFlips = new Option<int?>("--max-flips") { Description = "HotFlip: give up after this many flips (default: when no position is left)." };
        var maxLength = CommonOptions.MaxLength();
        var command = new Command("attack",
            "Attack one prediction with the gradient: input reduction removes the least important token while the prediction " +
            "holds; HotFlip replaces the most important token by the vocabulary entry that most increases the loss until the " +
            "label changes. Prints every step.\n\nExample: facade attack --model models/sst2-target.onnx --method hotflip \"a gorgeous , witty , seductive movie .\"")
        { method, json, beam, segment, maxFlips, maxLength };
        text.AddTo(command);
        engine.AddTo(command);
        command.SetAction(parse => CliRunner.Run(() =>
        {
            var (sentence, pair) = text.Input(parse);
            using var explainer = Explainer.Load(parse.GetValue(text.Model)!, engine.Engine(parse) with { MaxLength = parse.GetValue(maxLength) }, engine.Saliency(parse));
            var labels = explainer.LabelNames;
            bool asJson = parse.GetValue(json);
            if (parse.GetValue(method) == AnalysisAttribute.NameOf<InputReduction>())
            {
                var result = explainer.Reduce(sentence, pair, new InputReductionOptions { BeamSize = parse.GetValue(beam), Segment = parse.GetValue(segment) });
                TextArguments.NoteTruncation(result.Original);
                if (asJson)
                    Console.WriteLine(JsonSerializer.Serialize(new
                    {
                        label = labels[result.Label], original = result.Original.Tokens, reduced = result.ReducedTokens,
                        original_length = result.OriginalLength, reduced_length = result.ReducedLength,
                        trace = result.Trace.Select(s => new { tokens = s.Tokens, probability = s.Probability }),
                    }, ExplanationJson.Options));
                else
                {
                    Console.WriteLine($"prediction: {labels[result.Label]}; reduced {result.OriginalLength} -> {result.ReducedLength} word pieces");
                    foreach (var (step, i) in result.Trace.Select((s, i) => (s, i)))
                        Console.WriteLine($"  {i,3}  p={step.Probability:F3}  {string.Join(" ", step.Tokens)}");
                }
            }
            else
            {
                var result = explainer.Flip(sentence, pair, new HotFlipOptions { Segment = parse.GetValue(segment), MaxFlips = parse.GetValue(maxFlips) });
                TextArguments.NoteTruncation(result.Original);
                if (asJson)
                    Console.WriteLine(JsonSerializer.Serialize(new
                    {
                        label = labels[result.Label], success = result.Success, flips = result.Flips, original = result.Original.Tokens, final = result.FinalTokens,
                        trace = result.Trace.Select(f => new { position = f.Position, from = f.From, to = f.To, label_after = labels[f.LabelAfter], original_label_probability = f.OriginalLabelProbability }),
                    }, ExplanationJson.Options));
                else
                {
                    Console.WriteLine($"prediction: {labels[result.Label]}; {(result.Success ? "flipped" : "not flipped")} after {result.Flips} flip(s)");
                    foreach (var f in result.Trace)
                        Console.WriteLine($"  position {f.Position,3}: {f.From} -> {f.To}   now {labels[f.LabelAfter]} (p({labels[result.Label]}) = {f.OriginalLabelProbability:F3})");
                    Console.WriteLine($"  final: {string.Join(" ", result.FinalTokens)}");
                }
            }
            return 0;
        }));
        return command;
    }
}
