using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Graph.Shapes;

/// <summary>
/// What static analysis knows about a tensor: its element type, its dimensions (null when the rank is unknown) and,
/// for small integer tensors such as shapes and axes, its element values (symbolic where they come from a dimension).
/// </summary>
public sealed record TensorInfo(DataType ElementType, Dim[]? Dims, Dim[]? Values = null, double? Scalar = null)
{
    public int? Rank => Dims?.Length;

    public bool IsFloat => ElementType is DataType.Float or DataType.Double or DataType.Float16 or DataType.Bfloat16;

    /// <summary>All values are known integers.</summary>
    public long[]? KnownValues => Values != null && Values.All(v => v.IsValue) ? Values.Select(v => v.Value).ToArray() : null;

    public override string ToString() =>
        $"{ElementType}[{(Dims == null ? "?" : string.Join(",", Dims.Select(d => d.ToString())))}]";
}
