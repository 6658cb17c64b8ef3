using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Model;

/// <summary>
/// One transformer block (post-LayerNorm, as BERT): multi-head self-attention with an additive padding mask, then a
/// GELU (exact erf) feed-forward network, each followed by dropout, a residual connection and LayerNorm.
/// </summary>
public sealed class BertLayer : nn.Module<Tensor, Tensor, Tensor>
{
    public readonly Linear query, key, value, attention_output, intermediate, output;
    public readonly GroupedLayerNorm attention_norm, output_norm;
    readonly int _heads;
    readonly int _headSize;
    readonly double _dropout;

    public BertLayer(string name, BertConfig config) : base(name)
    {
        query = nn.Linear(config.Hidden, config.Hidden);
        key = nn.Linear(config.Hidden, config.Hidden);
        value = nn.Linear(config.Hidden, config.Hidden);
        attention_output = nn.Linear(config.Hidden, config.Hidden);
        attention_norm = new GroupedLayerNorm("attention_norm", config.HiddenGroups, config.LayerNormEps);
        intermediate = nn.Linear(config.Hidden, config.Intermediate);
        output = nn.Linear(config.Intermediate, config.Hidden);
        output_norm = new GroupedLayerNorm("output_norm", config.HiddenGroups, config.LayerNormEps);
        _heads = config.Heads;
        _headSize = config.HeadSize;
        _dropout = config.Dropout;
        RegisterComponents();
    }

    /// <param name="hidden">[batch, sequence, hidden]</param>
    /// <param name="maskBias">[batch, 1, 1, sequence]: 0 for real tokens, a large negative number for padding</param>
    public override Tensor forward(Tensor hidden, Tensor maskBias)
    {
        long batch = hidden.shape[0], length = hidden.shape[1];
        Tensor Heads(Tensor x) => x.view(batch, length, _heads, _headSize).transpose(1, 2);
        var q = Heads(query.forward(hidden));
        var k = Heads(key.forward(hidden));
        var v = Heads(value.forward(hidden));
        var scores = matmul(q, k.transpose(-1, -2)).Over(Math.Sqrt(_headSize)) + maskBias;
        var probabilities = nn.functional.dropout(scores.softmax(-1), _dropout, training);
        var context = matmul(probabilities, v).transpose(1, 2).reshape(batch, length, _heads * _headSize);
        var attended = attention_norm.forward(
            hidden + nn.functional.dropout(attention_output.forward(context), _dropout, training));
        var expanded = nn.functional.gelu(intermediate.forward(attended));
        return output_norm.forward(attended + nn.functional.dropout(output.forward(expanded), _dropout, training));
    }
}
