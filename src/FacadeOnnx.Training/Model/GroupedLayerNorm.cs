using TorchSharp;
using static TorchSharp.torch;

namespace FacadeOnnx.Training.Model;

/// <summary>
/// LayerNorm over consecutive groups of the last dimension, each with its own statistics: an ordinary LayerNorm for
/// one group, the merged model's per-half LayerNorm for two. Weight and bias span the whole width.
/// </summary>
public sealed class GroupedLayerNorm : nn.Module<Tensor, Tensor>
{
    readonly long[] _groups;
    readonly double _eps;
    public readonly TorchSharp.Modules.Parameter weight;
    public readonly TorchSharp.Modules.Parameter bias;

    public GroupedLayerNorm(string name, int[] groups, double eps) : base(name)
    {
        _groups = groups.Select(g => (long)g).ToArray();
        _eps = eps;
        long width = _groups.Sum();
        weight = nn.Parameter(ones(width));
        bias = nn.Parameter(zeros(width));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        if (_groups.Length == 1)
            return nn.functional.layer_norm(x, [_groups[0]], weight, bias, _eps);
        var parts = x.split(_groups, -1);
        var weights = weight.split(_groups);
        var biases = bias.split(_groups);
        var normed = parts.Select((p, i) => nn.functional.layer_norm(p, [_groups[i]], weights[i], biases[i], _eps)).ToArray();
        return cat(normed, -1);
    }
}
