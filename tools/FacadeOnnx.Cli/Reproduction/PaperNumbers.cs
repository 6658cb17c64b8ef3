namespace FacadeOnnx.Cli.Reproduction;

/// <summary>
/// The authors' own logged SST-2 results (docs/method.md 13.2, repository history commit 7477ffc, `model_metrics_3`,
/// "No Subtree – All dev", Facade `..._matched12/ep9`, merged with the regularized BERT-base model): research logs, not
/// necessarily the paper's final table. No SNLI numbers were logged.
/// </summary>
public static class PaperNumbers
{
    public sealed record Row(double Merged, double Original);

    public static readonly IReadOnlyDictionary<string, Row> Sst2FirstToken = new Dictionary<string, Row>
    {
        ["simple P@1"] = new(0.995, 0.063),
        ["smooth P@1"] = new(0.992, 0.061),
        ["ig P@1"] = new(0.203, 0.011),
        ["simple attribution"] = new(0.895, 0.056),
        ["smooth attribution"] = new(0.832, 0.056),
        ["ig attribution"] = new(0.127, 0.032),
        ["accuracy"] = new(0.903, 0.903),
    };
}
