using Google.Protobuf;
using Onnx;

namespace FacadeOnnx.Graph;

/// <summary>Reads and writes ONNX model files; reading errors name the file, writing is atomic.</summary>
public static class OnnxFile
{
    public static ModelProto Read(string path)
    {
        if (!File.Exists(path))
            throw new FacadeException($"ONNX file '{path}' does not exist.");
        byte[] bytes = File.ReadAllBytes(path);
        return Parse(bytes, path);
    }

    public static ModelProto Parse(byte[] bytes, string source)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new FacadeException(
                $"'{source}' is not a readable ONNX model ({e.Message}); the file may be truncated or corrupt. " +
                "Expected a serialized onnx.ModelProto.", e);
        }
        if (model.Graph == null || model.Graph.Node.Count == 0 || model.OpsetImport.Count == 0)
            throw new FacadeException(
                $"'{source}' parsed but holds no ONNX graph (no nodes or no opset import); the file may be truncated or not an ONNX model.");
        return model;
    }

    public static void Write(ModelProto model, string path) =>
        AtomicFile.Write(path, stream => model.WriteTo(stream));

    public static byte[] ToBytes(ModelProto model) => model.ToByteArray();
}
