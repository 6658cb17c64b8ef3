namespace FacadeOnnx.Runtime.Engine;

/// <summary>Where the engine's ONNX Runtime sessions run. Reports and logs write it in lower case (cpu, cuda).</summary>
public enum ExecutionDevice
{
    Cpu,
    /// <summary>The CUDA execution provider on GPU 0; falls back to <see cref="Cpu"/> with a note when it cannot start.</summary>
    Cuda,
}

public static class ExecutionDevices
{
    /// <summary>cpu or cuda, as reports and the command line spell it.</summary>
    public static string Name(this ExecutionDevice device) => device.ToString().ToLowerInvariant();
}
