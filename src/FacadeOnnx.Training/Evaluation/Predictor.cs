using FacadeOnnx.Text;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Evaluation;

/// <summary>Logits and predictions of a model over many inputs, batched by length, in eval mode without gradients.</summary>
public static class Predictor
{
    public static float[][] Logits(BertClassifier model, IReadOnlyList<TokenizedInput> inputs, int batchSize = 64) =>
        Batched(model, inputs, batchSize, (logits, group) =>
        {
            int classes = (int)logits.shape[1];
            float[] flat = logits.data<float>().ToArray();
            return Enumerable.Range(0, group.Length).Select(r => flat[(r * classes)..((r + 1) * classes)]).ToArray();
        });

    /// <summary>
    /// The model's output over many inputs in eval mode without gradients, in padded batches of similar length, read
    /// per batch by <paramref name="read"/> (one result per row); results come back in input order.
    /// </summary>
    public static T[] Batched<T>(BertClassifier model, IReadOnlyList<TokenizedInput> inputs, int batchSize, Func<Tensor, TokenizedInput[], IReadOnlyList<T>> read)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            var buckets = LengthBuckets.Create(inputs, batchSize);
            var perGroup = new List<IReadOnlyList<T>>();
            for (int g = 0; g < buckets.Groups.Count; g++)
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                var group = buckets.Select(inputs, g);
                using var batch = TensorBatch.Create(group, new int[group.Length]);
                perGroup.Add(read(model.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds), group));
            }
            return buckets.Restore(perGroup);
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }

    public static int[] Predictions(float[][] logits) =>
        logits.Select(row => Array.IndexOf(row, row.Max())).ToArray();

    public static double Accuracy(int[] predictions, int[] labels) =>
        predictions.Zip(labels, (p, l) => p == l ? 1.0 : 0.0).Average();
}
