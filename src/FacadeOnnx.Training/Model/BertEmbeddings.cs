using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Model;

/// <summary>
/// Word, position and token-type embeddings, summed, normalized and dropped out. The word lookup is separate
/// (<see cref="Lookup"/>) so that its output, the tensor every gradient analysis differentiates with respect to, can be
/// produced, replaced or perturbed between the two steps.
/// </summary>
public sealed class BertEmbeddings : nn.Module<Tensor, Tensor, Tensor>
{
    public readonly Embedding word;
    public readonly Embedding position;
    public readonly Embedding token_type;
    public readonly GroupedLayerNorm norm;
    readonly double _dropout;

    public BertEmbeddings(BertConfig config) : base("embeddings")
    {
        word = nn.Embedding(config.VocabSize, config.Hidden);
        position = nn.Embedding(config.MaxPositions, config.Hidden);
        token_type = nn.Embedding(config.TypeVocabSize, config.Hidden);
        norm = new GroupedLayerNorm("norm", config.HiddenGroups, config.LayerNormEps);
        _dropout = config.Dropout;
        RegisterComponents();
    }

    /// <summary>The word-embedding lookup output [batch, sequence, hidden].</summary>
    public Tensor Lookup(Tensor inputIds) => word.forward(inputIds);

    /// <summary>Adds position and type embeddings to looked-up word embeddings, then LayerNorm and dropout.</summary>
    public override Tensor forward(Tensor wordEmbeddings, Tensor tokenTypeIds)
    {
        long length = wordEmbeddings.shape[1];
        using var range = ScalarArithmetic.Range(length, wordEmbeddings.device);
        using var positions = range.unsqueeze(0);
        var sum = wordEmbeddings + position.forward(positions) + token_type.forward(tokenTypeIds);
        return nn.functional.dropout(norm.forward(sum), _dropout, training);
    }
}
