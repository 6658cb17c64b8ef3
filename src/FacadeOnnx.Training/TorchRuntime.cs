using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace FacadeOnnx.Training;

/// <summary>
/// Process-wide libtorch set-up, called before the first tensor: the optional MKL dispatch fix (docs/design.md section 9
/// toolchain notes; libmkl_intel_cpu_true.so is built beside the binaries where a C compiler exists) and the thread
/// count. FACADE_MKL_FIX=0 turns the fix off, for measuring TorchSharp's out-of-the-box speed.
/// </summary>
public static class TorchRuntime
{
    static readonly object Gate = new();
    static bool _initialized;

    public static bool MklFixLoaded { get; private set; }

    public static void Initialize(int? threads = null)
    {
        lock (Gate)
        {
            if (!_initialized)
            {
                _initialized = true;
                if (Environment.GetEnvironmentVariable("FACADE_MKL_FIX") != "0") MklFixLoaded = LoadMklFix();
            }
            set_num_threads(threads ?? Environment.ProcessorCount);
        }
    }

    static bool LoadMklFix()
    {
        if (!OperatingSystem.IsLinux()) return false;
        string path = Path.Combine(AppContext.BaseDirectory, "libmkl_intel_cpu_true.so");
        if (!File.Exists(path)) return false;
        const int RtldNow = 0x2, RtldGlobal = 0x100;
        return dlopen(path, RtldNow | RtldGlobal) != IntPtr.Zero;
    }

    [DllImport("libc", EntryPoint = "dlopen")]
    static extern IntPtr dlopen(string path, int flags);
}
