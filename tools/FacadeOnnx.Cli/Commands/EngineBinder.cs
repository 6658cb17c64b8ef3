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
    readonly SaliencySettings _saliencyDefaults;

    readonly Option<ExecutionDevice> _device = new("--device") { Description = "cpu or cuda (default: cpu; cuda falls back to cpu with one line when CUDA cannot start).", HelpName = "cpu|cuda", DefaultValueFactory = _ => EngineDefaults.Device };
    readonly Option<int?> _threads = CommonOptions.Threads();
    readonly Option<int> _batchBudget = new("--batch-budget") { Description = "Most samples (noise draws, IG steps, removals) per ONNX Runtime run, whatever the memory budget allows.", DefaultValueFactory = _ => EngineDefaults.BatchBudget };
    readonly Option<string> _memoryBudget = new("--memory-budget")
    {
        Description = "Activation memory one ONNX Runtime run may hold, estimated from the model's layers, width and the inputs' length " +
                      "(e.g. 1GB, 512MB, 2GiB; GB = 10^9 bytes, GiB = 2^30). Longer inputs get fewer samples per run.",
        DefaultValueFactory = _ => "2GiB",
    };
    readonly Option<int> _igSteps;
    readonly Option<string> _igTolerance;
    readonly Option<int> _igMaxSteps;
    readonly Option<IntegrationRule> _igRule;
    readonly Option<int> _smoothSamples;
    readonly Option<double> _smoothSigma;
    readonly Option<ulong> _smoothSeed;
    readonly Option<OcclusionMode> _looMode;

    /// <param name="saliencyDefaults">The command's saliency defaults: the reference settings unless given (the audit's
    /// Integrated Gradients is adaptive, <see cref="Runtime.Audit.AuditOptions.DefaultSaliency"/>).</param>
    public EngineBinder(SaliencySettings? saliencyDefaults = null)
    {
        var d = _saliencyDefaults = saliencyDefaults ?? new SaliencySettings();
        var ig = d.IntegratedGradients;
        _igSteps = new("--ig-steps") { Description = "Integrated Gradients steps (with --ig-tolerance: the steps every input starts with).", DefaultValueFactory = _ => ig.Steps };
        _igRule = new("--ig-rule") { Description = "Integrated Gradients rule: LeftRiemann (reference), Trapezoid or GaussLegendre (fixed steps only).", DefaultValueFactory = _ => ig.Rule };
        _igTolerance = new("--ig-tolerance")
        {
            Description = "Adaptive Integrated Gradients: an input's steps double while its relative completeness gap (the attributions' sum " +
                          "against the loss difference between input and baseline) is above this, e.g. 0.01; off for fixed steps.",
            HelpName = "gap|off",
            DefaultValueFactory = _ => ig.Tolerance?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "off",
        };
        _igMaxSteps = new("--ig-max-steps") { Description = "The most steps adaptive Integrated Gradients gives one input.", DefaultValueFactory = _ => ig.MaxSteps };
        _smoothSamples = new("--smooth-samples") { Description = "SmoothGrad samples.", DefaultValueFactory = _ => d.Smooth.Samples };
        _smoothSigma = new("--smooth-sigma") { Description = "SmoothGrad noise as a fraction of the input's embedding range.", DefaultValueFactory = _ => d.Smooth.Sigma };
        _smoothSeed = new("--smooth-seed") { Description = "SmoothGrad noise seed (the same seed gives the same noise alone or in a batch).", DefaultValueFactory = _ => d.Smooth.Seed };
        _looMode = new("--loo-mode") { Description = "Leave-one-out: Remove the token or replace it by [MASK].", DefaultValueFactory = _ => d.LeaveOneOut.Mode };
    }

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

    public SaliencySettings Saliency(ParseResult parse) => _saliencyDefaults with
    {
        IntegratedGradients = _saliencyDefaults.IntegratedGradients with
        {
            Steps = parse.GetValue(_igSteps), Rule = parse.GetValue(_igRule), Tolerance = Tolerance(parse.GetValue(_igTolerance)!), MaxSteps = parse.GetValue(_igMaxSteps),
        },
        Smooth = _saliencyDefaults.Smooth with { Samples = parse.GetValue(_smoothSamples), Sigma = parse.GetValue(_smoothSigma), Seed = parse.GetValue(_smoothSeed) },
        LeaveOneOut = _saliencyDefaults.LeaveOneOut with { Mode = parse.GetValue(_looMode) },
    };

    static double? Tolerance(string text) =>
        text.Trim().ToLowerInvariant() is "off" or "none" ? null
        : double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) && v > 0 ? v
        : throw new FacadeException($"--ig-tolerance: '{text}' is neither a positive relative gap (e.g. 0.01) nor off.");
}
