using Microsoft.ML.OnnxRuntime;

namespace FacadeOnnx.Runtime.Engine;

/// <summary>
/// The process's one ONNX Runtime environment, made with one global intra-op thread pool that every session the engine
/// (and the benchmarks) create runs on, instead of a pool of spinning threads per session.
/// <para>
/// ONNX Runtime has one environment per process (<see cref="OrtEnv"/> is a lazily created singleton). It is created
/// implicitly, without a global pool, by the first <see cref="SessionOptions"/>, <see cref="RunOptions"/> or session
/// made anywhere in the process if nobody created it before; <see cref="OrtEnv.CreateInstanceWithOptions"/> then throws,
/// and a session with per-session threads disabled fails to load on it ("the env must be created with the
/// CreateEnvWithGlobalThreadPools API"). So <see cref="Ensure"/> creates the environment with the pool when it does not
/// exist yet (the first caller's thread count sizes the pool for the life of the process), and
/// <see cref="CreateSession"/> falls back to threads of the session's own when the environment turns out to have no
/// pool. <see cref="ThreadNote"/> says so, or which pool size is in use when it differs from the one asked for.
/// </para>
/// </summary>
public static class OrtEnvironment
{
    enum Pool { Unverified, Shared, PerSession }

    static readonly object Gate = new();
    static bool _ensured;
    static int? _poolThreads;
    static Pool _pool = Pool.Unverified;

    /// <summary>Intra-op threads when none are asked for: all cores.</summary>
    public static int DefaultThreads => Environment.ProcessorCount;

    /// <summary>True once a session has loaded on the shared pool, false once one could not (the environment was
    /// created elsewhere without a pool) and sessions get threads of their own; null before the first session.</summary>
    public static bool? SharedPool
    {
        get
        {
            lock (Gate) return _pool switch { Pool.Shared => true, Pool.PerSession => false, _ => null };
        }
    }

    /// <summary>The shared pool's intra-op threads (the calling thread included) when this class created the
    /// environment; null when it was created elsewhere.</summary>
    public static int? PoolThreads
    {
        get
        {
            lock (Gate) return _poolThreads;
        }
    }

    /// <summary>Creates the environment with a global pool of <paramref name="threads"/> intra-op threads (default: all
    /// cores) unless it exists already; later calls change nothing. Never throws for an environment made otherwise.</summary>
    public static void Ensure(int? threads = null)
    {
        int wanted = Wanted(threads);
        lock (Gate)
        {
            if (_ensured) return;
            _ensured = true;
            if (OrtEnv.IsCreated) return; // made elsewhere: the first session finds out whether it has a pool
            using var threading = new OrtThreadingOptions
            {
                GlobalIntraOpNumThreads = wanted,
                GlobalInterOpNumThreads = 1, // sessions run their nodes sequentially: no inter-op pool
                GlobalSpinControl = true,    // as per-session pools do; there is one pool left to spin now
            };
            var options = new EnvironmentCreationOptions
            {
                logId = "FacadeOnnx",
                logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING,
                threadOptions = threading,
            };
            try
            {
                OrtEnv.CreateInstanceWithOptions(ref options);
                _poolThreads = wanted;
            }
            catch (OnnxRuntimeException)
            {
                // Created by other code between the check and here: treated like any environment made elsewhere.
            }
        }
    }

    /// <summary>
    /// A session of <paramref name="model"/> on the shared pool, or, where the environment has none, with
    /// <paramref name="threads"/> intra-op threads of its own. <paramref name="configure"/> sets everything else on
    /// fresh options (it may run twice); the options are disposed here on every path. Errors loading the model
    /// propagate as <see cref="OnnxRuntimeException"/>.
    /// </summary>
    public static InferenceSession CreateSession(byte[] model, int? threads = null, Action<SessionOptions>? configure = null)
    {
        Ensure(threads);
        Pool pool;
        lock (Gate) pool = _pool;
        if (pool != Pool.PerSession)
        {
            using var shared = new SessionOptions();
            configure?.Invoke(shared);
            shared.DisablePerSessionThreads();
            try
            {
                var session = new InferenceSession(model, shared);
                lock (Gate) if (_pool == Pool.Unverified) _pool = Pool.Shared;
                return session;
            }
            catch (OnnxRuntimeException) when (pool == Pool.Unverified)
            {
                // Either the environment has no global pool or the model does not load; a session with threads of
                // its own tells which (and throws the model's error in the second case).
                var session = WithOwnThreads(model, threads, configure);
                lock (Gate) _pool = Pool.PerSession;
                return session;
            }
        }
        return WithOwnThreads(model, threads, configure);
    }

    static InferenceSession WithOwnThreads(byte[] model, int? threads, Action<SessionOptions>? configure)
    {
        using var options = new SessionOptions { IntraOpNumThreads = Wanted(threads) };
        configure?.Invoke(options);
        return new InferenceSession(model, options);
    }

    /// <summary>One line for the log of an engine that asked for <paramref name="threads"/> and has created its
    /// sessions: which pool size is in use when it is not the one asked for, or that sessions have threads of their
    /// own because the environment has no pool; null when there is nothing to say.</summary>
    public static string? ThreadNote(int? threads)
    {
        int wanted = Wanted(threads);
        lock (Gate)
        {
            return _pool switch
            {
                Pool.Shared when _poolThreads is int size && size != wanted =>
                    $"note: all ONNX Runtime sessions in this process share one thread pool of {size} threads, sized when the first " +
                    $"model loaded; this engine runs on it, not on the {wanted} threads asked for.",
                Pool.Shared when _poolThreads == null && threads != null =>
                    "note: ONNX Runtime's environment was created elsewhere in this process with its own shared thread pool; " +
                    $"this engine runs on it, not on the {wanted} threads asked for.",
                Pool.PerSession =>
                    "note: ONNX Runtime's environment was created elsewhere in this process without a shared thread pool; " +
                    $"each of this engine's sessions runs on {wanted} threads of its own.",
                _ => null,
            };
        }
    }

    static int Wanted(int? threads) => threads switch
    {
        null => DefaultThreads,
        >= 1 => threads.Value,
        _ => throw new FacadeException($"The thread count must be at least 1 (got {threads})."),
    };
}
