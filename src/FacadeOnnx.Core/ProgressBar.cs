using System.Diagnostics;

namespace FacadeOnnx;

/// <summary>
/// A one-line progress display on standard error: bar, count, rate, time left and a free status text (loss terms,
/// accuracy). Redraws in place on a terminal; when standard error is redirected it prints a plain line every
/// ten seconds instead, so logs stay readable. Thread-safe.
/// </summary>
public sealed class ProgressBar : IDisposable
{
    readonly string _label;
    readonly string _unit;
    readonly TextWriter _output;
    readonly bool _interactive;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly object _gate = new();
    readonly long _startDone;
    long _total;
    long _done;
    string _status = "";
    TimeSpan _lastDraw = TimeSpan.MinValue;
    long _lastDrawnDone = -1;
    bool _finished;

    public ProgressBar(string label, long total, string unit = "it", long alreadyDone = 0, TextWriter? output = null)
    {
        _label = label;
        _unit = unit;
        _total = Math.Max(total, 0);
        _done = _startDone = alreadyDone;
        _output = output ?? Console.Error;
        _interactive = output == null && !Console.IsErrorRedirected &&
                       Environment.GetEnvironmentVariable("FACADE_PLAIN_PROGRESS") == null;
        Draw(force: true);
    }

    public long Done { get { lock (_gate) return _done; } }

    public void Advance(long count = 1, string? status = null)
    {
        lock (_gate)
        {
            _done += count;
            if (status != null) _status = status;
            Draw(force: false);
        }
    }

    public void SetStatus(string status)
    {
        lock (_gate) { _status = status; Draw(force: false); }
    }

    public void SetTotal(long total)
    {
        lock (_gate) { _total = total; Draw(force: false); }
    }

    /// <summary>Prints a line above the bar (an evaluation result, a checkpoint written) without breaking it.</summary>
    public void WriteLine(string line)
    {
        lock (_gate)
        {
            if (_interactive) _output.Write("\r\u001b[2K");
            _output.WriteLine(line);
            if (_interactive) Draw(force: true);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_finished) return;
            if (_interactive || _done != _lastDrawnDone) Draw(force: true);
            if (_interactive) _output.WriteLine();
            _finished = true;
        }
    }

    void Draw(bool force)
    {
        if (_finished) return;
        var now = _clock.Elapsed;
        var interval = _interactive ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(10);
        if (!force && now - _lastDraw < interval && _done < _total) return;
        _lastDraw = now;
        _lastDrawnDone = _done;
        string line = Render(now);
        if (_interactive) _output.Write("\r\u001b[2K" + line);
        else _output.WriteLine(line);
        _output.Flush();
    }

    string Render(TimeSpan elapsed)
    {
        double fraction = _total > 0 ? Math.Clamp((double)_done / _total, 0, 1) : 0;
        const int width = 24;
        int filled = (int)Math.Round(fraction * width);
        string bar = new string('#', filled) + new string('.', width - filled);
        double rate = (_done - _startDone) / Math.Max(elapsed.TotalSeconds, 1e-9);
        string left = rate > 0 && _total > 0 ? FormatTime(TimeSpan.FromSeconds((_total - _done) / rate)) : "--:--";
        string status = _status.Length > 0 ? " | " + _status : "";
        return $"{_label} [{bar}] {fraction * 100,3:F0}% {_done}/{_total} | {rate:F1} {_unit}/s | " +
               $"{FormatTime(elapsed)} elapsed, {left} left{status}";
    }

    public static string FormatTime(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:D2}:{t.Seconds:D2}" : $"{t.Minutes:D2}:{t.Seconds:D2}";
}
