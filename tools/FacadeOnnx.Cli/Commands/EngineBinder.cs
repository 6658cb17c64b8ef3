using System.CommandLine;
using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Runtime.Saliency;

namespace FacadeOnnx.Cli.Commands;

/// <summary>
/// The engine options (--device, --threads, --memory-budget, --batch-budget) and the saliency settings (--ig-steps, --ig-rule,
/// --ig-tolerance, --ig-max-steps,
/// --smooth-samples, --smooth-sigma, --smooth-seed, --loo-mode), declared once for every command with gradient work
/// (explain, attack, audit, bench). Defaults come from the option records, so help, API and reports agree.
/// </summary>
public sealed class EngineBinder
{
    static readonly EngineOptions EngineDefaults = new();
    static readonly SaliencySettings SaliencyDefaults = new();

    readonly Option<ExecutionDevice> _device = new("--device") { Description = "cpu or cuda (default: cpu; cuda falls back to cpu with one line when CUDA cannot start).", HelpName = "cpu|cuda", DefaultValueFactory = _ => EngineDefaults.Device };
    readonly Option<int?> _threads = CommonOptions.Threads();
    readonly Option<int> _batchBudget = new("--batch-budget") { Description = "Most samples (noise draws, IG steps, removals) per ONNX Runtime run, whatever the memory budget allows.", DefaultValueFactory = _ => EngineDefaults.BatchBudget };
    readonly Option<string> _memoryBudget = new("--memory-budget")
    {
        Description = "Activation memory one ONNX Runtime run may hold, estimated from the model's layers, width and the inputs' length " +
                      "(e.g. 1GB, 512MB, 2GiB; GB = 10^9 bytes, GiB = 2^30). Longer inputs get fewer samples per run.",
        DefaultValueFactory = _ => "2GiB",
    };
    readonly Option<int> _igSteps = new("--ig-steps") { Description = "Integrated Gradients steps.", DefaultValueFactory = _ => SaliencyDefaults.IntegratedGradients.Steps };
    readonly Option<double?> _igTolerance = new("--ig-tolerance")
    {
        Description = "Adaptive Integrated Gradients: an input's steps (starting at --ig-steps) double while its relative completeness gap " +
                      "(attributions' sum against the loss difference between input and baseline) is above this, e.g. 0.01. Off: fixed steps.",
        DefaultValueFactory = _ => SaliencyDefaults.IntegratedGradients.Tolerance,
    };
    readonly Option<int> _igMaxSteps = new("--ig-max-steps") { Description = "The most steps adaptive Integrated Gradients gives one input.", DefaultValueFactory = _ => SaliencyDefaults.IntegratedGradients.MaxSteps };
    readonly Option<IntegrationRule> _igRule = new("--ig-rule") { Description = "Integrated Gradients rule: LeftRiemann (reference), Trapezoid or GaussLegendre.", DefaultValueFactory = _ => SaliencyDefaults.IntegratedGradients.Rule };
    readonly Option<int> _smoothSamples = new("--smooth-samples") { Description = "SmoothGrad samples.", DefaultValueFactory = _ => SaliencyDefaults.Smooth.Samples };
    readonly Option<double> _smoothSigma = new("--smooth-sigma") { Description = "SmoothGrad noise as a fraction of the input's embedding range.", DefaultValueFactory = _ => SaliencyDefaults.Smooth.Sigma };
    readonly Option<ulong> _smoothSeed = new("--smooth-seed") { Description = "SmoothGrad noise seed (the same seed gives the same noise alone or in a batch).", DefaultValueFactory = _ => SaliencyDefaults.Smooth.Seed };
    readonly Option<OcclusionMode> _looMode = new("--loo-mode") { Description = "Leave-one-out: Remove the token or replace it by [MASK].", DefaultValueFactory = _ => SaliencyDefaults.LeaveOneOut.Mode };

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { _device, _threads, _memoryBudget, _batchBudget, _igSteps, _igRule, _igTolerance, _igMaxSteps, _smoothSamples, _smoothSigma, _smoothSeed, _looMode })
            command.Add(option);
    }

    public EngineOptions Engine(ParseResult parse) => EngineDefaults with
    {
        Device = parse.GetValue(_device),
        Threads = parse.GetValue(_threads),
        BatchBudget = parse.GetValue(_batchBudget),
        MemoryBudget = ByteSize.Parse(parse.GetValue(_memoryBudget)!, "--memory-budget"),
    };

    public SaliencySettings Saliency(ParseResult parse) => SaliencyDefaults with
    {
        IntegratedGradients = SaliencyDefaults.IntegratedGradients with
        {
            Steps = parse.GetValue(_igSteps), Rule = parse.GetValue(_igRule), Tolerance = parse.GetValue(_igTolerance), MaxSteps = parse.GetValue(_igMaxSteps),
        },
        Smooth = SaliencyDefaults.Smooth with { Samples = parse.GetValue(_smoothSamples), Sigma = parse.GetValue(_smoothSigma), Seed = parse.GetValue(_smoothSeed) },
        LeaveOneOut = SaliencyDefaults.LeaveOneOut with { Mode = parse.GetValue(_looMode) },
    };
}
