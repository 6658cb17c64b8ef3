using FacadeOnnx.Runtime;
using FacadeOnnx.Runtime.Saliency;

namespace FacadeOnnx.Cli.Reproduction;

/// <summary>
/// The authors' own logged SST-2 results (docs/method.md 13.2, repository history commit 7477ffc, `model_metrics_3`,
/// "No Subtree – All dev", Facade `..._matched12/ep9`, merged with the regularized BERT-base model): research logs, not
/// necessarily the paper's final table. No SNLI numbers were logged.
/// </summary>
public static class PaperNumbers
{
    public sealed record Row(double Merged, double Original);

    /// <summary>The key of a method's row: "simple P@1", "ig attribution", ...</summary>
    public static string Key<TMethod>(string metric) where TMethod : SaliencyMethod => $"{AnalysisAttribute.NameOf<TMethod>()} {metric}";

    public const string HitRate = "P@1", Attribution = "attribution", Accuracy = "accuracy";

    /// <summary>The authors' logged QA run (docs/method.md 13.2: `RC/.../model_metrics_1`, Facade
    /// `BERT_256_first_token_low_logits2`, batch300 checkpoint; first question token; EM and F1 as fractions).</summary>
    public static readonly IReadOnlyDictionary<string, Row> SquadFirstToken = new Dictionary<string, Row>
    {
        [Key<SimpleGradient>(HitRate)] = new(0.254, 0.002),
        [Key<SimpleGradient>("MRR")] = new(0.366, 0.044),
        [Key<SmoothGrad>(HitRate)] = new(0.170, 0.006),
        [Key<IntegratedGradients>(HitRate)] = new(0.070, 0.066),
        ["EM"] = new(76.8, 77.4),
        ["F1"] = new(84.6, 84.7),
    };

    public static readonly IReadOnlyDictionary<string, Row> Sst2FirstToken = new Dictionary<string, Row>
    {
        [Key<SimpleGradient>(HitRate)] = new(0.995, 0.063),
        [Key<SmoothGrad>(HitRate)] = new(0.992, 0.061),
        [Key<IntegratedGradients>(HitRate)] = new(0.203, 0.011),
        [Key<SimpleGradient>(Attribution)] = new(0.895, 0.056),
        [Key<SmoothGrad>(Attribution)] = new(0.832, 0.056),
        [Key<IntegratedGradients>(Attribution)] = new(0.127, 0.032),
        [Accuracy] = new(0.903, 0.903),
    };
}
