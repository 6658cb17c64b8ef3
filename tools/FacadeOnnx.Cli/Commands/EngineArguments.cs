using System.CommandLine;
using FacadeOnnx.Runtime.Engine;

namespace FacadeOnnx.Cli.Commands;

/// <summary>The options that load a gradient model into the engine, and the text (or pair) to analyse.</summary>
public sealed class EngineArguments
{
    public const string PairSeparator = "|||";

    public Option<string> Model { get; } = new("--model") { Description = "Gradient model (.onnx) written by `facade export --gradients`.", Required = true };
    public Option<ExecutionDevice> Device { get; } = new("--device") { Description = "cpu or cuda (default: cpu; cuda falls back to cpu when CUDA cannot start).", HelpName = "cpu|cuda" };
    public Option<int?> Threads { get; } = CommonOptions.Threads();
    public Option<int> BatchBudget { get; } = new("--batch-budget") { Description = "Most samples per ONNX Runtime run.", DefaultValueFactory = _ => new EngineOptions().BatchBudget };
    public Option<string?> Premise { get; } = new("--premise") { Description = "First sentence of a pair (SNLI); use with --hypothesis instead of TEXT." };
    public Option<string?> Hypothesis { get; } = new("--hypothesis") { Description = "Second sentence of a pair." };
    public Argument<string?> Text { get; } = new("TEXT") { Description = $"The text to analyse; a pair as \"premise {PairSeparator} hypothesis\".", Arity = ArgumentArity.ZeroOrOne };

    public void AddTo(Command command)
    {
        command.Add(Model);
        command.Add(Device);
        command.Add(Threads);
        command.Add(BatchBudget);
        command.Add(Premise);
        command.Add(Hypothesis);
        command.Add(Text);
    }

    public EngineOptions Options(ParseResult parse) => new()
    {
        Device = parse.GetValue(Device),
        Threads = parse.GetValue(Threads),
        BatchBudget = parse.GetValue(BatchBudget),
    };

    /// <summary>The text and optional pair from TEXT or --premise/--hypothesis.</summary>
    public (string Text, string? Pair) Input(ParseResult parse)
    {
        string? text = parse.GetValue(Text), premise = parse.GetValue(Premise), hypothesis = parse.GetValue(Hypothesis);
        if (premise != null || hypothesis != null)
        {
            if (text != null) throw new FacadeException("Give either TEXT or --premise/--hypothesis, not both.");
            if (premise == null || hypothesis == null) throw new FacadeException("A pair needs both --premise and --hypothesis.");
            return (premise, hypothesis);
        }
        if (text == null) throw new FacadeException("Give the text to analyse as TEXT (a pair as \"premise ||| hypothesis\"), or --premise and --hypothesis.");
        int split = text.IndexOf(PairSeparator, StringComparison.Ordinal);
        return split < 0 ? (text, null) : (text[..split].Trim(), text[(split + PairSeparator.Length)..].Trim());
    }
}
