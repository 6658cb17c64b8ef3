using FacadeOnnx.Graph.Building;
using Onnx;

namespace FacadeOnnx.Graph.Autodiff;

/// <summary>
/// What the autodiff refuses, found before it emits a node: ONNX Runtime's fused transformer operators and quantized
/// operators anywhere in what computes the objective (the embedding lookup included), and any operator without a rule
/// between the cut and the objective. Each message names the node, its operator and domain, and what to do instead.
/// </summary>
public static class DifferentiabilityCheck
{
    /// <summary>What ONNX Runtime's transformer optimizer (Optimum's <c>--optimize</c>) fuses BERT subgraphs into.</summary>
    static readonly HashSet<string> FusedTransformerOperators =
    [
        "EmbedLayerNormalization", "Attention", "MultiHeadAttention", "PackedAttention", "PackedMultiHeadAttention",
        "GroupQueryAttention", "LongformerAttention", "DecoderAttention", "DecoderMaskedMultiHeadAttention",
        "SkipLayerNormalization", "SkipSimplifiedLayerNormalization", "SimplifiedLayerNormalization", "LayerNormalization",
        "BiasGelu", "FastGelu", "Gelu", "QuickGelu", "BiasAdd", "BiasSoftmax", "BiasDropout", "BiasSplitGelu",
        "FusedMatMul", "FusedGemm", "RotaryEmbedding", "RelativePositionBias", "GatedRelativePositionBias",
        "RemovePadding", "RestorePadding",
    ];

    /// <summary>Quantization operators of ai.onnx and com.microsoft (besides every QLinear* operator).</summary>
    static readonly HashSet<string> QuantizationOperators =
    [
        "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "ConvInteger", "QAttention",
        "QEmbedLayerNormalization", "QGemm", "QOrderedAttention", "QOrderedMatMul", "QOrderedLayerNormalization",
        "QOrderedGelu", "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "MatMulNBits", "MatMulBnb4",
        "GatherBlockQuantized", "DynamicQuantizeLSTM",
    ];

    public static void ThrowIfUnsupported(GraphBuilder b, string wrt, string objective)
    {
        var computing = GraphPruning.NodesComputing(b.Graph, [objective]);
        foreach (var node in computing)
        {
            bool standard = node.Domain is "" or "ai.onnx";
            string domain = standard ? "ai.onnx" : node.Domain;
            // The optimizer also writes LayerNormalization and Gelu into the default domain of models whose opset lacks them.
            if (FusedTransformerOperators.Contains(node.OpType) && (!standard || !OpsetForms.Exists(node.OpType, b.Opset)))
                throw new FacadeException(
                    $"{node.Describe()} (domain '{domain}') is a fused operator of ONNX Runtime's transformer optimizer" +
                    (standard ? $" (ai.onnx defines {node.OpType} from opset {OpsetForms.AddedIn(node.OpType)}; this model imports {b.Opset})" : "") +
                    "; the autodiff differentiates standard ai.onnx operators only. Export without the transformer optimizations: " +
                    "with Optimum, `optimum-cli export onnx` without `--optimize`, or `torch.onnx.export` directly.");
            if (QuantizationOperators.Contains(node.OpType) || node.OpType.StartsWith("QLinear", StringComparison.Ordinal))
                throw new FacadeException(
                    $"{node.Describe()} (domain '{domain}') is a quantization operator: the model is quantized, and gradients " +
                    "need a float model. Export the float model (before onnxruntime.quantization or `optimum-cli onnxruntime quantize`).");
        }
        if (b.Shapes[wrt] == null) return;   // the cut names what exists
        var needsGrad = ReverseMode.RequiresGrad(b.Shapes, b.Graph.Node, wrt);
        foreach (var node in computing)
            if (node.Input.Any(needsGrad.Contains) && node.Output.Any(needsGrad.Contains))
                VjpRules.For(node, wrt, objective);
    }
}
