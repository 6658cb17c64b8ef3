using System.CommandLine;
using FacadeOnnx.Text;

namespace FacadeOnnx.Cli.Commands;

/// <summary>
/// A file of the user's own texts for commands that read many (audit, explain): --input and where the file keeps the
/// text, the pair's second text and the label. The formats are <see cref="UserCorpus"/>'s.
/// </summary>
public sealed class CorpusArguments
{
    static readonly CorpusColumns Defaults = new();

    public Option<string?> Input { get; } = new("--input")
    {
        Description = "A file of your own texts instead of a dataset split: .txt, .jsonl, .csv or .tsv (formats below). Pairs and labels follow the file.",
        HelpName = "FILE",
    };
    public Option<string> TextColumn { get; } = new("--text-column")
    {
        Description = "The column (.csv/.tsv header) or key (.jsonl) holding the text.", DefaultValueFactory = _ => Defaults.Text, HelpName = "NAME",
    };
    public Option<string?> PairColumn { get; } = new("--pair-column")
    {
        Description = $"The column or key holding a pair's second text (.jsonl: \"{CorpusColumns.DefaultJsonPair}\" when present); pairs throughout or none.", HelpName = "NAME",
    };
    public Option<string?> LabelColumn { get; } = new("--label-column")
    {
        Description = $"The column or key holding gold labels (.jsonl: \"{CorpusColumns.DefaultJsonLabel}\" when present): a label name of the model " +
                      "(any case) or its index; on every record or none.", HelpName = "NAME",
    };

    /// <summary>The formats, one example each, for the commands' help.</summary>
    public const string FormatsHelp =
        "Input files (--input FILE), by extension; text is UTF-8, every record keeps its index in the file:\n" +
        "  .txt    one text a line; blank lines are skipped\n" +
        "            a gorgeous , witty , seductive movie .\n" +
        "  .jsonl  one JSON object a line: \"text\", optionally \"text_pair\" (a pair's second text) and \"label\" (name or index)\n" +
        "            {\"text\": \"a gorgeous , witty , seductive movie .\", \"label\": \"positive\"}\n" +
        "            {\"text\": \"a man plays a guitar .\", \"text_pair\": \"a man is playing music .\", \"label\": 0}\n" +
        "  .csv    a header line, then one record a line; a field holding a comma, a quote or a line break goes in\n" +
        "          double quotes, with quotes inside written twice. Name the columns with --text-column (default text),\n" +
        "          --pair-column and --label-column:\n" +
        "            id,review,sentiment\n" +
        "            7,\"slow , and \"\"clever\"\" only in its trailer\",negative\n" +
        "  .tsv    as .csv, separated by tabs";

    public void AddTo(Command command)
    {
        command.Add(Input);
        command.Add(TextColumn);
        command.Add(PairColumn);
        command.Add(LabelColumn);
    }

    /// <summary>The file given with --input, or null; column options without it are a mistake worth saying.</summary>
    public string? File(ParseResult parse)
    {
        string? file = parse.GetValue(Input);
        if (file == null && !Columns(parse).IsDefault)
            throw new FacadeException("--text-column, --pair-column and --label-column name the columns of --input FILE; give the file with --input.");
        return file;
    }

    public CorpusColumns Columns(ParseResult parse) => Defaults with
    {
        Text = parse.GetValue(TextColumn)!,
        Pair = parse.GetValue(PairColumn),
        Label = parse.GetValue(LabelColumn),
    };

    /// <summary>The file given with --input, read with the model's label names.</summary>
    public UserCorpus Read(ParseResult parse, IReadOnlyList<string> labelNames) =>
        UserCorpus.Read(File(parse) ?? throw new InvalidOperationException("--input was not given."), labelNames, Columns(parse));
}
