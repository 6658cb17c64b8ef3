using FacadeOnnx.Text;
using FacadeOnnx.Training.Checkpoints;
using FacadeOnnx.Training.Model;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Tests;

/// <summary>Small randomly initialized BERTs (MiniLM's vocabulary and head size 32) that keep the tests fast.</summary>
public static class TinyModels
{
    public static BertConfig Config(int labels = 2, int hidden = 64, int layers = 2, int intermediate = 128) =>
        BertConfig.Facade(labels, hidden, intermediate, layers);

    public static BertClassifier Create(long seed, BertConfig? config = null)
    {
        TorchRuntime.Initialize();
        manual_seed(seed);
        var model = new BertClassifier(config ?? Config());
        // BERT's 0.02 initialization gives a nearly constant function; larger weights make the parity checks bite.
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (!name.Contains("norm")) p.normal_(0, 0.2);
        model.eval();
        return model;
    }

    /// <summary>
    /// Gives every LayerNorm a random scale in [0.5, 1.5] and shift N(0, 0.2²) (Create leaves them at 1 and 0), for
    /// checks that must see the LayerNorm parameters at work. Returns the model.
    /// </summary>
    public static BertClassifier RandomizeNorms(BertClassifier model, long seed)
    {
        manual_seed(seed);
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (name.EndsWith("norm.weight")) p.uniform_(0.5, 1.5);
                else if (name.EndsWith("norm.bias")) p.normal_(0, 0.2);
        return model;
    }

    public static CheckpointManifest Manifest(BertClassifier model, string kind = "target") => new()
    {
        Kind = kind,
        Task = "sst2",
        LabelNames = Enumerable.Range(0, model.Config.NumLabels).Select(i => $"label{i}").ToArray(),
        Config = model.Config,
        VocabHash = WordPieceTokenizer.MiniLm().VocabHash,
    };
}
