using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Saliency;

/// <summary>
/// A saliency method: builds its samples (noise, interpolations, removals) for a batch of inputs, asks the engine for
/// logits and gradients, and reduces them to one <see cref="SaliencyMap"/> per input. The label explained for each
/// input is its prediction's label, fixed for every sample (METHOD.md section 9).
/// </summary>
public interface ISaliencyMethod
{
    string Name { get; }

    IReadOnlyList<SaliencyMap> Explain(GradientEngine engine, IReadOnlyList<TokenizedInput> inputs, IReadOnlyList<Prediction> predictions);
}
