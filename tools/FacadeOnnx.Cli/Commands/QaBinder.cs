using System.CommandLine;
using FacadeOnnx.Text;

namespace FacadeOnnx.Cli.Commands;

/// <summary>The SQuAD window and answer options (--stride, --max-query-length, --max-answer-length), declared once.</summary>
public sealed class QaBinder(QaSettings defaults)
{
    readonly Option<int> _stride = new("--stride") { Description = "SQuAD: context pieces shared by consecutive windows of a long context.", DefaultValueFactory = _ => defaults.Stride };
    readonly Option<int> _maxQuery = new("--max-query-length") { Description = "SQuAD: question pieces kept (the rest is cut).", DefaultValueFactory = _ => defaults.MaxQueryLength };
    readonly Option<int> _maxAnswer = new("--max-answer-length") { Description = "SQuAD: longest answer, in pieces, the span search considers.", DefaultValueFactory = _ => defaults.MaxAnswerLength };

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { _stride, _maxQuery, _maxAnswer }) command.Add(option);
    }

    /// <summary>The settings from the command line; <paramref name="maxLength"/> replaces the window length when given.</summary>
    public QaSettings Bind(ParseResult parse, int? maxLength = null) => defaults with
    {
        MaxLength = maxLength ?? defaults.MaxLength,
        Stride = parse.GetValue(_stride),
        MaxQueryLength = parse.GetValue(_maxQuery),
        MaxAnswerLength = parse.GetValue(_maxAnswer),
    };
}
