using System.Text.RegularExpressions;

namespace FacadeOnnx.Runtime.Saliency;

/// <summary>
/// The saliency methods, in the order reports list them. Names come from each class's <see cref="AnalysisAttribute"/>;
/// this list only says which classes exist and how each is made from the settings. A sampled method's name followed by
/// a number sets its sample count: "ig20" is Integrated Gradients with 20 steps, "smooth50" SmoothGrad with 50 samples.
/// </summary>
public static partial class SaliencyMethods
{
    sealed record Entry(AnalysisAttribute Info, Func<SaliencySettings, SaliencyMethod> Create, Func<SaliencySettings, int, SaliencyMethod>? WithCount = null);

    static readonly Entry[] Entries =
    [
        Register<SimpleGradient>(_ => new SimpleGradient()),
        Register<SmoothGrad>(s => new SmoothGrad(s.Smooth), (s, n) => new SmoothGrad(s.Smooth with { Samples = n })),
        Register<IntegratedGradients>(s => new IntegratedGradients(s.IntegratedGradients),
            (s, n) => new IntegratedGradients(s.IntegratedGradients with { Steps = n })),
        Register<LeaveOneOut>(s => new LeaveOneOut(s.LeaveOneOut)),
        Register<GradientNorm>(_ => new GradientNorm()),
    ];

    static Entry Register<T>(Func<SaliencySettings, SaliencyMethod> create, Func<SaliencySettings, int, SaliencyMethod>? withCount = null)
        where T : SaliencyMethod => new(AnalysisAttribute.Of(typeof(T)), create, withCount);

    /// <summary>Every method's name.</summary>
    public static IReadOnlyList<string> Names { get; } = Entries.Select(e => e.Info.Name).ToArray();

    /// <summary>The methods "all" stands for, which the audit runs: simple, smooth, ig, loo.</summary>
    public static IReadOnlyList<string> Standard { get; } = Entries.Where(e => e.Info.Standard).Select(e => e.Info.Name).ToArray();

    /// <summary>How tables and help spell a method's name out ("simple" is "simple gradient").</summary>
    public static string Title(string name) => Find(name)?.Info.Title ?? name;

    /// <summary>One line for --help: every name, how counts work, and "all".</summary>
    public static string Help =>
        $"{string.Join(", ", Names)} (a number after smooth or ig sets its samples or steps, e.g. ig20), a comma-separated list, or all ({string.Join(", ", Standard)})";

    public static SaliencyMethod Create(string name, SaliencySettings? settings = null)
    {
        settings ??= new SaliencySettings();
        string key = name.Trim().ToLowerInvariant();
        if (Find(key) is Entry entry) return entry.Create(settings);
        var counted = CountSuffix().Match(key);
        if (counted.Success && Find(counted.Groups[1].Value) is { WithCount: not null } sampled && int.TryParse(counted.Groups[2].Value, out int count))
            return sampled.WithCount(settings, count);
        throw new FacadeException($"Unknown saliency method '{name}'; known methods: {Help}.");
    }

    /// <summary>"all" or a comma-separated list of names.</summary>
    public static IReadOnlyList<SaliencyMethod> Parse(string spec, SaliencySettings? settings = null) =>
        (spec.Trim().ToLowerInvariant() == "all" ? Standard : spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(n => Create(n, settings)).ToArray();

    /// <summary>The standard methods, made from <paramref name="settings"/>.</summary>
    public static IReadOnlyList<SaliencyMethod> CreateStandard(SaliencySettings settings) => Standard.Select(n => Create(n, settings)).ToArray();

    static Entry? Find(string key) => Entries.FirstOrDefault(e => e.Info.Name == key || e.Info.Aliases.Contains(key));

    [GeneratedRegex("^([a-z_]+?)([0-9]+)$")]
    private static partial Regex CountSuffix();
}
