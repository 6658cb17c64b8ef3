using Onnx;

namespace FacadeOnnx.Graph;

/// <summary>Reading and writing a model's metadata_props (the self-description of the gradient model contract).</summary>
public static class Metadata
{
    public static string? Get(this ModelProto model, string key) =>
        model.MetadataProps.FirstOrDefault(p => p.Key == key)?.Value;

    public static void Set(this ModelProto model, string key, string value)
    {
        var existing = model.MetadataProps.FirstOrDefault(p => p.Key == key);
        if (existing != null) existing.Value = value;
        else model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
    }

    public static IReadOnlyDictionary<string, string> All(this ModelProto model) =>
        model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
}
