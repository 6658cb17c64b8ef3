using FacadeOnnx.Text;
using FacadeOnnx.Training.Data;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Evaluation;

/// <summary>Logits and predictions of a model over many inputs, batched by length, in eval mode without gradients.</summary>
public static class Predictor
{
    public static float[][] Logits(BertClassifier model, IReadOnlyList<TokenizedInput> inputs, int batchSize = 64)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            var buckets = LengthBuckets.Create(inputs, batchSize);
            var perGroup = new List<IReadOnlyList<float[]>>();
            for (int g = 0; g < buckets.Groups.Count; g++)
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                var group = buckets.Select(inputs, g);
                using var batch = TensorBatch.Create(group, new int[group.Length]);
                var logits = model.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);
                int classes = (int)logits.shape[1];
                float[] flat = logits.data<float>().ToArray();
                perGroup.Add(Enumerable.Range(0, group.Length).Select(r => flat[(r * classes)..((r + 1) * classes)]).ToArray());
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
