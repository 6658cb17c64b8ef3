using Microsoft.ML.OnnxRuntime;
using Onnx;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace FacadeOnnx.Graph.Tests;

/// <summary>Runs an ONNX model in ONNX Runtime (CPU, optimization level ALL) on float32/float64/int64 arrays.</summary>
public sealed class OrtHarness : IDisposable
{
    readonly InferenceSession _session;

    public OrtHarness(ModelProto model)
    {
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        _session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(model), options);
    }

    public sealed record Value(Array Data, long[] Shape);

    public Dictionary<string, double[]> Run(IReadOnlyDictionary<string, Value> inputs, params string[] outputs)
    {
        var names = inputs.Keys.ToArray();
        var values = names.Select(n => Create(inputs[n])).ToArray();
        try
        {
            using var results = _session.Run(new RunOptions(), names, values, outputs);
            var map = new Dictionary<string, double[]>();
            for (int i = 0; i < outputs.Length; i++)
            {
                var r = results[i];
                var type = r.GetTensorTypeAndShape().ElementDataType;
                map[outputs[i]] = type switch
                {
                    TensorElementType.Double => r.GetTensorDataAsSpan<double>().ToArray(),
                    TensorElementType.Float => r.GetTensorDataAsSpan<float>().ToArray().Select(v => (double)v).ToArray(),
                    TensorElementType.Int64 => r.GetTensorDataAsSpan<long>().ToArray().Select(v => (double)v).ToArray(),
                    _ => throw new NotSupportedException(type.ToString()),
                };
            }
            return map;
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    static OrtValue Create(Value v) => v.Data switch
    {
        double[] d => OrtValue.CreateTensorValueFromMemory(d, v.Shape),
        float[] f => OrtValue.CreateTensorValueFromMemory(f, v.Shape),
        long[] l => OrtValue.CreateTensorValueFromMemory(l, v.Shape),
        bool[] b => OrtValue.CreateTensorValueFromMemory(b, v.Shape),
        _ => throw new NotSupportedException(v.Data.GetType().Name),
    };

    public void Dispose() => _session.Dispose();
}
