using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace FacadeOnnx.Graph;

/// <summary>Conversions between ONNX TensorProto (raw little-endian data or typed fields) and .NET arrays.</summary>
public static class Tensors
{
    public static TensorProto FromFloats(string name, ReadOnlySpan<float> values, params long[] dims) =>
        Raw(name, DataType.Float, MemoryMarshal.AsBytes(values), dims);

    public static TensorProto FromDoubles(string name, ReadOnlySpan<double> values, params long[] dims) =>
        Raw(name, DataType.Double, MemoryMarshal.AsBytes(values), dims);

    public static TensorProto FromInt64s(string name, ReadOnlySpan<long> values, params long[] dims) =>
        Raw(name, DataType.Int64, MemoryMarshal.AsBytes(values), dims);

    static TensorProto Raw(string name, DataType type, ReadOnlySpan<byte> bytes, long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(dims);
        return t;
    }

    public static long ElementCount(TensorProto t)
    {
        long n = 1;
        foreach (long d in t.Dims) n *= d;
        return n;
    }

    public static float[] ToFloats(TensorProto t)
    {
        Require(t, DataType.Float);
        if (!t.RawData.IsEmpty) return MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
        return t.FloatData.ToArray();
    }

    public static double[] ToDoubles(TensorProto t)
    {
        if (t.DataType == (int)DataType.Float) return Array.ConvertAll(ToFloats(t), v => (double)v);
        Require(t, DataType.Double);
        if (!t.RawData.IsEmpty) return MemoryMarshal.Cast<byte, double>(t.RawData.Span).ToArray();
        return t.DoubleData.ToArray();
    }

    /// <summary>Integer contents of an int64 or int32 tensor (shapes, axes, indices).</summary>
    public static long[] ToInt64s(TensorProto t)
    {
        if (t.DataType == (int)DataType.Int64)
            return !t.RawData.IsEmpty ? MemoryMarshal.Cast<byte, long>(t.RawData.Span).ToArray() : t.Int64Data.ToArray();
        if (t.DataType == (int)DataType.Int32)
            return !t.RawData.IsEmpty
                ? Array.ConvertAll(MemoryMarshal.Cast<byte, int>(t.RawData.Span).ToArray(), v => (long)v)
                : t.Int32Data.Select(v => (long)v).ToArray();
        throw new FacadeException($"Tensor '{t.Name}' has element type {(DataType)t.DataType}; expected int64 or int32.");
    }

    /// <summary>A scalar float value of a float or double constant (exponents, epsilons).</summary>
    public static double ScalarValue(TensorProto t)
    {
        double[] values = t.DataType is (int)DataType.Int64 or (int)DataType.Int32
            ? Array.ConvertAll(ToInt64s(t), v => (double)v)
            : ToDoubles(t);
        if (values.Length != 1)
            throw new FacadeException($"Tensor '{t.Name}' has {values.Length} elements; expected a scalar.");
        return values[0];
    }

    static void Require(TensorProto t, DataType type)
    {
        if (t.DataType != (int)type)
            throw new FacadeException($"Tensor '{t.Name}' has element type {(DataType)t.DataType}; expected {type}.");
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
            throw new FacadeException($"Tensor '{t.Name}' stores its data in an external file, which is not supported; " +
                                      "save the model with all tensors inside the .onnx file.");
    }
}
