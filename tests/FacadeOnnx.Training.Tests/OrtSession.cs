using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace FacadeOnnx.Training.Tests;

/// <summary>Runs an ONNX model with stock ONNX Runtime (CPU, optimization level ALL) for parity checks.</summary>
public sealed class OrtSession : IDisposable
{
    readonly InferenceSession _session;

    public OrtSession(ModelProto model) : this(Google.Protobuf.MessageExtensions.ToByteArray(model)) { }

    public OrtSession(byte[] bytes)
    {
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        _session = new InferenceSession(bytes, options);
    }

    public Dictionary<string, float[]> Run(Dictionary<string, (Array Data, long[] Shape)> inputs, params string[] outputs)
    {
        var names = inputs.Keys.ToArray();
        var values = names.Select(n => inputs[n].Data switch
        {
            float[] f => OrtValue.CreateTensorValueFromMemory(f, inputs[n].Shape),
            long[] l => OrtValue.CreateTensorValueFromMemory(l, inputs[n].Shape),
            _ => throw new NotSupportedException(),
        }).ToArray();
        try
        {
            using var results = _session.Run(new RunOptions(), names, values, outputs);
            return outputs.Select((o, i) => (o, results[i].GetTensorDataAsSpan<float>().ToArray())).ToDictionary(p => p.o, p => p.Item2);
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    public void Dispose() => _session.Dispose();
}
