using System.CommandLine;
using FacadeOnnx.Training.Loop;

namespace FacadeOnnx.Cli.Commands;

/// <summary>
/// The training-loop options (--epochs, --max-steps, --batch, --lr, --eval-every, --seed, --threads, --fresh), declared
/// once for every command that trains (train, train-facade, regularize), with each command's defaults.
/// </summary>
public sealed class LoopBinder(LoopSettings defaults, string learningRate)
{
    readonly Option<int> _epochs = new("--epochs") { Description = "Training epochs (unless --max-steps is given).", DefaultValueFactory = _ => defaults.Epochs };
    readonly Option<int?> _maxSteps = new("--max-steps") { Description = "Stop after this many optimizer steps (overrides --epochs).", DefaultValueFactory = _ => defaults.MaxSteps };
    readonly Option<int> _batch = new("--batch") { Description = "Batch size.", DefaultValueFactory = _ => defaults.BatchSize };
    readonly Option<double> _lr = new("--lr") { Description = learningRate, DefaultValueFactory = _ => defaults.LearningRate };
    readonly Option<int> _evalEvery = new("--eval-every") { Description = "Evaluate (and maybe save) every this many steps; 0: at the end of each epoch.", DefaultValueFactory = _ => defaults.EvaluateEvery };
    readonly Option<long> _seed = CommonOptions.Seed(defaults.Seed);
    readonly Option<int?> _threads = CommonOptions.Threads();
    readonly Option<bool> _fresh = CommonOptions.Fresh();

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { _epochs, _maxSteps, _batch, _lr, _evalEvery, _seed, _threads, _fresh }) command.Add(option);
    }

    /// <summary>The loop settings as given; a flag not given takes its value from <paramref name="taskDefaults"/> when
    /// set (a task whose measured recipe differs from the command's defaults), else from the command's defaults.</summary>
    public LoopSettings Bind(ParseResult parse, LoopSettings? taskDefaults = null)
    {
        var fallback = taskDefaults ?? defaults;
        T Given<T>(Option<T> option, T otherwise) => parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option)! : otherwise;
        return fallback with
        {
            Epochs = Given(_epochs, fallback.Epochs),
            MaxSteps = Given(_maxSteps, fallback.MaxSteps),
            BatchSize = Given(_batch, fallback.BatchSize),
            LearningRate = Given(_lr, fallback.LearningRate),
            EvaluateEvery = Given(_evalEvery, fallback.EvaluateEvery),
            Seed = Given(_seed, fallback.Seed),
            Threads = parse.GetValue(_threads),
            Fresh = parse.GetValue(_fresh),
        };
    }
}
