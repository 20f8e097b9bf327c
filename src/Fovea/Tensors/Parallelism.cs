namespace Fovea;

/// <summary>
/// How many cores Fovea's kernels use, and the one way they split work: into <see cref="Threads"/>
/// contiguous chunks whose boundaries depend only on the work size and the thread count. That is
/// what makes results bitwise reproducible for a given seed and thread count.
/// </summary>
public static class Parallelism
{
    private static int _threads = Environment.ProcessorCount;


    /// <summary>A thread count set by <see cref="UseThreads"/> for the calling thread only (0: none).</summary>
    [ThreadStatic] private static int _scopedThreads;

    /// <summary>Threads used by kernels (default: all cores). Setting it changes the process-wide default.</summary>
    public static int Threads
    {
        get => _scopedThreads > 0 ? _scopedThreads : _threads;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), $"Threads must be at least 1. Received: {value}");
            _threads = value;
        }
    }

    /// <summary>
    /// Kernels called from this thread use <paramref name="threads"/> threads until the scope is disposed;
    /// other threads keep the process-wide setting (a data loader, a test, a server request each choose their own).
    /// </summary>
    public static ThreadsScope UseThreads(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), $"Threads must be at least 1. Received: {threads}");
        var scope = new ThreadsScope(_scopedThreads);
        _scopedThreads = threads;
        return scope;
    }

    public readonly struct ThreadsScope(int previous) : IDisposable
    {
        public void Dispose() => _scopedThreads = previous;
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, <paramref name="count"/>) in at most
    /// <see cref="Threads"/> contiguous chunks; chunks are skipped below <paramref name="minPerChunk"/> items.
    /// </summary>
    public static void For(int count, Action<int, int> body, int minPerChunk = 1) => ForkJoin.For(count, body, minPerChunk);

    /// <summary>How many chunks <see cref="For"/> splits <paramref name="count"/> items into.</summary>
    public static int ChunkCount(int count, int minPerChunk = 1) =>
        Math.Max(1, Math.Min(Threads, count / Math.Max(1, minPerChunk)));

    /// <summary>The [start, end) range of chunk <paramref name="index"/> of <paramref name="chunks"/>.</summary>
    public static (int Start, int End) Chunk(int count, int chunks, int index) =>
        ((int)((long)count * index / chunks), (int)((long)count * (index + 1) / chunks));
}
