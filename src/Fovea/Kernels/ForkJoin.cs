using System.Runtime.ExceptionServices;

namespace Fovea;

/// <summary>
/// How <see cref="Parallelism.For"/> runs its chunks (<see cref="Parallelism.ChunkCount"/>,
/// <see cref="Parallelism.Chunk"/>) without allocating: dedicated worker threads that wait between calls.
/// The kernels of a training step fork about forty times, and Parallel.For's bookkeeping (~1.7 KB a call)
/// was most of a step's managed allocation. A chunk runs with <see cref="Parallelism.UseThreads"/>(1), so
/// whatever it calls does not fork again. A call made while the workers serve another caller runs its
/// chunks inline, in order: the chunk boundaries, and so the results, never depend on who runs them.
/// </summary>
internal static class ForkJoin
{
    private static readonly object Gate = new();
    private static readonly ManualResetEventSlim Finished = new(false);
    private static Worker[] _workers = [];

    // The call in progress (written under Gate before the workers are released).
    private static Action<int, int>? _body;
    private static int _count, _chunks, _pending;
    private static ExceptionDispatchInfo? _failure;

    [ThreadStatic] private static bool _forking;

    public static void For(int count, Action<int, int> body, int minPerChunk = 1)
    {
        int chunks = Parallelism.ChunkCount(count, minPerChunk);
        if (chunks <= 1)
        {
            if (count > 0) body(0, count);
            return;
        }
        if (_forking || !Monitor.TryEnter(Gate))
        {
            RunInline(count, chunks, body);
            return;
        }
        try
        {
            _forking = true;
            Fork(count, chunks, body);
        }
        finally
        {
            _forking = false;
            Monitor.Exit(Gate);
        }
    }

    private static void RunInline(int count, int chunks, Action<int, int> body)
    {
        using var _ = Parallelism.UseThreads(1);
        for (int c = 0; c < chunks; c++)
        {
            var (start, end) = Parallelism.Chunk(count, chunks, c);
            body(start, end);
        }
    }

    private static void Fork(int count, int chunks, Action<int, int> body)
    {
        EnsureWorkers(chunks - 1);
        _body = body;
        _count = count;
        _chunks = chunks;
        _failure = null;
        _pending = chunks - 1;
        Finished.Reset();
        for (int c = 1; c < chunks; c++)
        {
            _workers[c - 1].Chunk = c;
            _workers[c - 1].Start.Release();
        }
        try
        {
            using var _ = Parallelism.UseThreads(1);
            var (start, end) = Parallelism.Chunk(count, chunks, 0);
            body(start, end);
        }
        finally
        {
            Finished.Wait();
            _body = null;
        }
        _failure?.Throw();
    }

    private static void EnsureWorkers(int needed)
    {
        if (_workers.Length >= needed) return;
        var grown = new Worker[needed];
        _workers.CopyTo(grown, 0);
        for (int i = _workers.Length; i < needed; i++) grown[i] = new Worker();
        _workers = grown;
    }

    private sealed class Worker
    {
        public readonly SemaphoreSlim Start = new(0);
        public int Chunk;

        public Worker()
        {
            new Thread(Loop) { IsBackground = true, Name = "Fovea.ForkJoin" }.Start();
        }

        private void Loop()
        {
            using var _ = Parallelism.UseThreads(1);
            while (true)
            {
                Start.Wait();
                try
                {
                    var (start, end) = Parallelism.Chunk(_count, _chunks, Chunk);
                    _body!(start, end);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
                }
                if (Interlocked.Decrement(ref _pending) == 0) Finished.Set();
            }
        }
    }
}
