using System.Security.Cryptography;

namespace FacadeOnnx;

/// <summary>SHA-256 digests as lower-case hex, for manifests, model provenance and vocabulary checks.</summary>
public static class Hashing
{
    public static string Sha256(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static string Sha256(string text) => Sha256(System.Text.Encoding.UTF8.GetBytes(text));

    public static string Sha256File(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
