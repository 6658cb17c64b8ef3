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

    public LoopSettings Bind(ParseResult parse) => defaults with
    {
        Epochs = parse.GetValue(_epochs),
        MaxSteps = parse.GetValue(_maxSteps),
        BatchSize = parse.GetValue(_batch),
        LearningRate = parse.GetValue(_lr),
        EvaluateEvery = parse.GetValue(_evalEvery),
        Seed = parse.GetValue(_seed),
        Threads = parse.GetValue(_threads),
        Fresh = parse.GetValue(_fresh),
    };
}
