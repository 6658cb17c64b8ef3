using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Saliency;

/// <summary>
/// A saliency method: builds its samples (noise, interpolations, removals) for a batch of inputs, asks the engine for
/// logits and gradients, and reduces them to one <see cref="SaliencyMap"/> per input. The label explained for each
/// input is its prediction's label, fixed for every sample (docs/method.md section 9). Its name is declared once, in
/// the class's <see cref="AnalysisAttribute"/>.
/// </summary>
public abstract class SaliencyMethod
{
    public string Name => AnalysisAttribute.Of(GetType()).Name;
    public string Title => AnalysisAttribute.Of(GetType()).Title;

    public abstract IReadOnlyList<SaliencyMap> Explain(GradientEngine engine, IReadOnlyList<TokenizedInput> inputs, IReadOnlyList<Prediction> predictions);

    /// <summary>Input indices from shortest to longest (stable), so that the engine's runs pad as little as possible.</summary>
    protected internal static int[] ByLength(IReadOnlyList<TokenizedInput> inputs) =>
        Enumerable.Range(0, inputs.Count).OrderBy(i => inputs[i].Length).ToArray();
}
