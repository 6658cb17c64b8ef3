using FacadeOnnx.Runtime.Engine;
using FacadeOnnx.Text;

namespace FacadeOnnx.Runtime.Saliency;

/// <summary>
/// What simple gradient, SmoothGrad and Integrated Gradients share: for each input, send a few variations of its
/// word embeddings through the gradient model (all at the input's predicted label), accumulate the returned gradients
/// with a weight per sample, and reduce the accumulated gradient to one score per token. A method only says which
/// samples it sends, how each is weighted, and how the sum becomes scores.
/// </summary>
public abstract class SampledGradient : SaliencyMethod
{
    /// <summary>How many samples each input sends.</summary>
    protected abstract int SampleCount { get; }

    /// <summary>The embeddings of sample <paramref name="k"/> of an input whose clean lookup is <paramref name="clean"/>.</summary>
    protected abstract float[] Sample(float[] clean, TokenizedInput input, int k);

    /// <summary>The weight of sample <paramref name="k"/>'s gradient in the sum.</summary>
    protected virtual float Weight(int k) => 1;

    /// <summary>
    /// Per-token raw scores and diagnostics from an input's weighted gradient sum; <paramref name="firstSampleLogits"/>
    /// are the model's logits at sample 0 (IG's baseline).
    /// </summary>
    protected abstract (float[] Raw, Dictionary<string, double> Diagnostics) Reduce(float[] gradientSum, float[] clean, int hidden, Prediction prediction, float[] firstSampleLogits);

    /// <summary>Checks settings before any work.</summary>
    protected virtual void Validate() { }

    public override IReadOnlyList<SaliencyMap> Explain(GradientEngine engine, IReadOnlyList<TokenizedInput> inputs, IReadOnlyList<Prediction> predictions)
    {
        Validate();
        int m = SampleCount;
        var order = ByLength(inputs);
        var clean = new float[inputs.Count][];
        var sums = new float[inputs.Count][];
        var firstLogits = new float[inputs.Count][];
        IEnumerable<EngineSample> Samples()
        {
            foreach (int i in order)
            {
                clean[i] = engine.Embed(inputs[i].Ids);
                sums[i] = new float[clean[i].Length];
                for (int k = 0; k < m; k++)
                    yield return EngineSample.At(Sample(clean[i], inputs[i], k), inputs[i], predictions[i]);
            }
        }
        engine.Gradients(Samples(), (s, logits, gradient) =>
        {
            int i = order[s / m], k = s % m;
            if (k == 0) firstLogits[i] = logits.ToArray();
            float w = Weight(k);
            var sum = sums[i];
            for (int j = 0; j < sum.Length; j++) sum[j] += w * gradient[j];
        });
        var maps = new SaliencyMap[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            var (raw, diagnostics) = Reduce(sums[i], clean[i], engine.Hidden, predictions[i], firstLogits[i]);
            maps[i] = new SaliencyMap(Name, inputs[i], predictions[i], raw, ScoreNormalization.AbsL1(raw), diagnostics);
        }
        return maps;
    }
}
