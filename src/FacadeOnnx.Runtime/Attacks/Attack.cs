using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Attacks;

/// <summary>
/// An attack on a model's predictions guided by its gradients (input reduction, HotFlip): it takes inputs and their
/// predictions and returns one result per input. Costly set-up that depends only on the model (HotFlip's candidate
/// list over the whole vocabulary) happens once per engine, in <see cref="Initialize"/>, not on every call. Its name
/// is declared once, in the class's <see cref="AnalysisAttribute"/>.
/// </summary>
public abstract class Attack<TResult>
{
    readonly object _gate = new();
    GradientEngine? _initializedFor;

    public string Name => AnalysisAttribute.Of(GetType()).Name;

    /// <summary>One-time set-up for <paramref name="engine"/>'s model.</summary>
    protected virtual void Initialize(GradientEngine engine) { }

    /// <summary>Attacks every input in lockstep, so their samples share the engine's batch axis.</summary>
    protected abstract IReadOnlyList<TResult> Perform(GradientEngine engine, IReadOnlyList<TokenizedInput> inputs, IReadOnlyList<Prediction> predictions);

    public IReadOnlyList<TResult> Run(GradientEngine engine, IReadOnlyList<TokenizedInput> inputs, IReadOnlyList<Prediction> predictions)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(_initializedFor, engine))
            {
                Initialize(engine);
                _initializedFor = engine;
            }
        }
        return Perform(engine, inputs, predictions);
    }
}
