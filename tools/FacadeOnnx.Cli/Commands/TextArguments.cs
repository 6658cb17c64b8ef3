using System.CommandLine;
using FacadeOnnx.Text;

namespace FacadeOnnx.Cli.Commands;

/// <summary>The model to load and the text (or pair) to analyse, for commands that explain one input; engine options come from <see cref="EngineBinder"/>.</summary>
public sealed class TextArguments
{
    public const string PairSeparator = "|||";

    public Option<string> Model { get; } = new("--model") { Description = "Gradient model (.onnx) written by `facade export --gradients`.", Required = true };
    public Option<string?> Premise { get; } = new("--premise") { Description = "First sentence of a pair (SNLI); use with --hypothesis instead of TEXT." };
    public Option<string?> Hypothesis { get; } = new("--hypothesis") { Description = "Second sentence of a pair." };
    public Option<string?> Question { get; } = new("--question") { Description = "SQuAD span models: the question; use with --context." };
    public Option<string?> Context { get; } = new("--context") { Description = "SQuAD span models: the paragraph the answer is read from." };
    public Argument<string?> Text { get; } = new("TEXT") { Description = $"The text to analyse; a pair as \"premise {PairSeparator} hypothesis\".", Arity = ArgumentArity.ZeroOrOne };

    public void AddTo(Command command)
    {
        command.Add(Model);
        command.Add(Premise);
        command.Add(Hypothesis);
        command.Add(Question);
        command.Add(Context);
        command.Add(Text);
    }

    /// <summary>Whether TEXT, --premise, --hypothesis, --question or --context was given.</summary>
    public bool Given(ParseResult parse) => parse.GetValue(Text) != null || parse.GetValue(Premise) != null || parse.GetValue(Hypothesis) != null ||
                                            parse.GetValue(Question) != null || parse.GetValue(Context) != null;

    /// <summary>The question and context of a span model's input (both required), or null when neither was given.</summary>
    public (string Question, string Context)? QuestionAndContext(ParseResult parse)
    {
        string? question = parse.GetValue(Question), context = parse.GetValue(Context);
        if (question == null && context == null) return null;
        if (question == null || context == null) throw new FacadeException("A question for a span model needs both --question and --context.");
        if (parse.GetValue(Text) != null || parse.GetValue(Premise) != null || parse.GetValue(Hypothesis) != null)
            throw new FacadeException("Give either --question/--context or TEXT (--premise/--hypothesis), not both.");
        return (question, context);
    }

    /// <summary>One line on standard error when <paramref name="input"/> was cut at the maximum length.</summary>
    public static void NoteTruncation(TokenizedInput input, string what = "the input")
    {
        if (input.Truncated)
            Console.Error.WriteLine($"note: {what} was cut to {input.Length} word pieces (the maximum length; --max-length): {input.DroppedPieces} word pieces dropped.");
    }

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
