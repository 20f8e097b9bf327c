using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Fovea;

/// <summary>
/// How <see cref="Parallelism.For"/> runs its chunks (<see cref="Parallelism.ChunkCount"/>,
/// <see cref="Parallelism.Chunk"/>) without allocating: dedicated worker threads that spin briefly between
/// calls, then park. The kernels of a training step fork about forty times, and Parallel.For's bookkeeping
/// (~1.7 KB a call) was most of a step's managed allocation; at batch 1 a fork carries only tens of
/// microseconds of work, so waking a parked thread for each one (a futex round trip, much longer when the
/// cores are busy) cost as much as the work. Hence, as in ONNX Runtime's and OpenMP's pools, a worker that
/// finishes a chunk spins for <see cref="SpinMicroseconds"/> waiting for the next call before it parks.
/// <para>
/// A call publishes its chunks and claims them one at a time, as the workers do, so a caller whose workers
/// are slow to come (parked, or descheduled on a loaded machine) runs the chunks itself instead of waiting.
/// A chunk runs with <see cref="Parallelism.UseThreads"/>(1), so whatever it calls does not fork again.
/// A call made while the workers serve another caller runs its chunks inline, in order. The chunk
/// boundaries, and so the results, never depend on who runs them.
/// </para>
/// <para>
/// A pass of many kernels (a model's forward pass) holds <see cref="StayWarm"/>: until it ends, idle threads spin
/// however long the gap between forks. A run of small layers that do not fork (MobileNet's 2×2 maps: 60 µs and
/// more) otherwise parked the workers, and the next fork waited about 27 µs for a parked one to wake. ONNX
/// Runtime's workers spin for milliseconds after every task.
/// </para>
/// </summary>
internal static class ForkJoin
{
    /// <summary>How long an idle thread spins before it parks: covers the gaps between the forks of a forward pass.</summary>
    internal const int SpinMicroseconds = 100;

    private static readonly long SpinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
    private static readonly object Gate = new();
    private static readonly Parking Idle = new(), Caller = new();
    private static int _workerCount;

    /// <summary>How many <see cref="StayWarm"/> scopes are open, on any thread.</summary>
    private static int _warmScopes;

    // The call in progress: written by its caller before it publishes _claim, read by whoever claims a chunk.
    // A successful claim pins the call (the caller waits for every claimed chunk), so the fields stay valid.
    private static Action<int, int>? _body;
    private static int _count, _chunks, _unfinished;
    private static ExceptionDispatchInfo? _failure;

    /// <summary>The call's number (high 32 bits) and how many of its chunks nobody has claimed yet (low 32 bits).</summary>
    private static long _claim;

    [ThreadStatic] private static bool _forking;

    /// <summary>Workers started so far, and how many of them are parked (not spinning, not working): for tests.</summary>
    internal static int Workers => Volatile.Read(ref _workerCount);

    internal static int ParkedWorkers => Idle.Parked;

    /// <summary>Idle threads spin, without parking, until the scope is disposed (see the class remarks).</summary>
    internal static WarmScope StayWarm()
    {
        Interlocked.Increment(ref _warmScopes);
        return new WarmScope();
    }

    internal readonly struct WarmScope : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref _warmScopes);
    }

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
        Volatile.Write(ref _unfinished, chunks);
        int call = unchecked(CallOf(Volatile.Read(ref _claim)) + 1); // wraps after 2^32 calls: only equality matters
        // A full fence: a worker that parks after this sees the new call, one parked before it is woken.
        Interlocked.Exchange(ref _claim, (long)call << 32 | (uint)chunks);
        Idle.Wake(chunks - 1);
        using (Parallelism.UseThreads(1)) RunClaimed(call);
        Caller.WaitUntil(new AllChunksDone());
        _body = null;
        var failure = _failure;
        _failure = null;
        failure?.Throw();
    }

    /// <summary>Claims and runs chunks of call <paramref name="call"/> until none is left unclaimed.</summary>
    private static void RunClaimed(int call)
    {
        while (true)
        {
            long claim = Volatile.Read(ref _claim);
            int unclaimed = (int)claim;
            if (CallOf(claim) != call || unclaimed == 0) return;
            if (Interlocked.CompareExchange(ref _claim, claim - 1, claim) != claim) continue;
            var (start, end) = Parallelism.Chunk(_count, _chunks, unclaimed - 1);
            try
            {
                _body!(start, end);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
            }
            if (Interlocked.Decrement(ref _unfinished) == 0) Caller.Wake(1);
        }
    }

    private static int CallOf(long claim) => (int)(claim >> 32);

    private static void EnsureWorkers(int needed)
    {
        for (; _workerCount < needed; _workerCount++)
            new Thread(WorkerLoop) { IsBackground = true, Name = "Fovea.ForkJoin" }.Start();
    }

    private static void WorkerLoop()
    {
        using var _ = Parallelism.UseThreads(1);
        int seen = CallOf(Volatile.Read(ref _claim));
        while (true)
        {
            RunClaimed(seen);
            Idle.WaitUntil(new NewCall(seen));
            seen = CallOf(Volatile.Read(ref _claim));
        }
    }

    private interface ICondition
    {
        bool IsMet();
    }

    private readonly struct NewCall(int seen) : ICondition
    {
        public bool IsMet() => CallOf(Volatile.Read(ref _claim)) != seen;
    }

    private readonly struct AllChunksDone : ICondition
    {
        public bool IsMet() => Volatile.Read(ref _unfinished) == 0;
    }

    /// <summary>
    /// Where threads wait for a condition: spinning for <see cref="SpinMicroseconds"/> (for as long as a
    /// <see cref="StayWarm"/> scope is open, and that long after), then blocked on a monitor.
    /// Whoever makes the condition true does so with a full fence (an Interlocked operation) and then calls
    /// <see cref="Wake"/>; a waiter counts itself parked with a full fence before its last look at the
    /// condition, so one of the two always sees the other and no wake-up is lost.
    /// </summary>
    private sealed class Parking
    {
        private readonly object _monitor = new();
        private int _parked;

        public int Parked => Volatile.Read(ref _parked);

        public void WaitUntil<T>(T condition) where T : struct, ICondition
        {
            if (Spin(condition)) return;
            lock (_monitor)
            {
                Interlocked.Increment(ref _parked);
                while (!condition.IsMet()) Monitor.Wait(_monitor);
                Interlocked.Decrement(ref _parked);
            }
        }

        public void Wake(int waiters)
        {
            if (Volatile.Read(ref _parked) == 0) return;
            lock (_monitor)
            {
                for (int i = 0; i < waiters; i++) Monitor.Pulse(_monitor);
            }
        }

        private static bool Spin<T>(T condition) where T : struct, ICondition
        {
            long deadline = Stopwatch.GetTimestamp() + SpinTicks;
            do
            {
                for (int i = 0; i < 32; i++)
                {
                    if (condition.IsMet()) return true;
                    Thread.SpinWait(1);
                }
                // On a busy machine the thread we spin for (often the caller, preempted when it woke us) may be
                // waiting for this very core; a spinner that never yields delays it by the whole budget.
                Thread.Yield();
                if (Volatile.Read(ref _warmScopes) > 0) deadline = Stopwatch.GetTimestamp() + SpinTicks;
            } while (Stopwatch.GetTimestamp() < deadline);
            return condition.IsMet();
        }
    }
}
