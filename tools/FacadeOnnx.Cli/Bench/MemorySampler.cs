namespace FacadeOnnx.Cli.Bench;

/// <summary>Peak resident memory while a piece of work runs: /proc/self/statm sampled every few milliseconds, minus
/// the resident size before it started (managed and native allocations alike).</summary>
public sealed class MemorySampler : IDisposable
{
    readonly long _baseline;
    long _peak;
    volatile bool _running = true;
    readonly Thread _thread;

    public MemorySampler()
    {
        _baseline = _peak = Resident();
        _thread = new Thread(() => { while (_running) { _peak = Math.Max(_peak, Resident()); Thread.Sleep(3); } }) { IsBackground = true };
        _thread.Start();
    }

    public double PeakMB => Math.Max(0, _peak - _baseline) / (1024.0 * 1024.0);

    public static long Resident()
    {
        try
        {
            var fields = File.ReadAllText("/proc/self/statm").Split(' ');
            return long.Parse(fields[1]) * Environment.SystemPageSize;
        }
        catch (IOException) { return 0; }
    }

    public void Dispose()
    {
        _running = false;
        _thread.Join();
        _peak = Math.Max(_peak, Resident());
    }
}
