using Google.Protobuf;
using Onnx;
using AttributeType = Onnx.AttributeProto.Types.AttributeType;

namespace FacadeOnnx.Graph;

/// <summary>Creating node attributes and reading them back with defaults.</summary>
public static class Attributes
{
    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeType.Float, F = value };

    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Tensor(string name, TensorProto value) =>
        new() { Name = name, Type = AttributeType.Tensor, T = value };

    public static AttributeProto? Find(this NodeProto node, string name) =>
        node.Attribute.FirstOrDefault(a => a.Name == name);

    public static long GetInt(this NodeProto node, string name, long fallback) => node.Find(name)?.I ?? fallback;

    public static float GetFloat(this NodeProto node, string name, float fallback) => node.Find(name)?.F ?? fallback;

    public static long[]? GetInts(this NodeProto node, string name) => node.Find(name)?.Ints.ToArray();

    public static string? GetString(this NodeProto node, string name) => node.Find(name)?.S.ToStringUtf8();

    /// <summary>"node 'Name' (OpType)": how every message refers to a node.</summary>
    public static string Describe(this NodeProto node) =>
        $"node '{(string.IsNullOrEmpty(node.Name) ? string.Join(",", node.Output) : node.Name)}' ({node.OpType})";
}
