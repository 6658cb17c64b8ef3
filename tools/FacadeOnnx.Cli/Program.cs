using System.Diagnostics;
using System.Runtime.InteropServices;
using static TorchSharp.torch;
if (args.Length > 0) { var h = dlopen(Path.Combine(AppContext.BaseDirectory, "libmkl_intel_cpu_true.so"), 0x102); Console.WriteLine($"dlopen {h}"); }
set_num_threads(2);
var a = randn(1024, 1024); var b = randn(1024, 1024);
for (int i = 0; i < 20; i++) matmul(a, b).Dispose();
var sw = Stopwatch.StartNew();
for (int i = 0; i < 50; i++) matmul(a, b).Dispose();
double s = sw.Elapsed.TotalSeconds / 50;
Console.WriteLine($"{2.0 * 1024 * 1024 * 1024 / s / 1e9:F1} GFLOP/s");
[DllImport("libc", EntryPoint = "dlopen")] static extern IntPtr dlopen(string path, int flags);
