using System.Collections.Concurrent;

namespace Fovea.Tests.Kernels;

/// <summary>
/// The allocation-free fork-join: Parallelism's chunks, errors passed back, no nested forking, nothing allocated,
/// and the hand-off between a caller and spinning workers (no lost or repeated chunk).
/// </summary>
public class ForkJoinTests
{
    /// <summary>Runs <paramref name="action"/> on a fresh thread with <paramref name="threads"/> threads and waits for it.</summary>
    internal static void OnOwnThread(int threads, Action action)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var _ = Parallelism.UseThreads(threads);
                action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null) throw new Xunit.Sdk.XunitException($"Failed on its thread: {failure}");
    }

    [Theory]
    [InlineData(2, 10, 1)]
    [InlineData(3, 7, 1)]
    [InlineData(2, 100, 40)]
    [InlineData(2, 1, 1)]
    public void RunsParallelismsChunksEachOnce(int threads, int count, int minPerChunk)
    {
        OnOwnThread(threads, () =>
        {
            var seen = new ConcurrentBag<(int, int)>();
            ForkJoin.For(count, (start, end) => seen.Add((start, end)), minPerChunk);
            int chunks = Parallelism.ChunkCount(count, minPerChunk);
            var expected = Enumerable.Range(0, chunks).Select(c => Parallelism.Chunk(count, chunks, c)).ToHashSet();
            Assert.Equal(expected, seen.ToHashSet());
            Assert.Equal(chunks, seen.Count);
        });
    }

    [Fact]
    public void AFailingChunkThrowsAtTheCallerAndTheWorkersCarryOn()
    {
        OnOwnThread(2, () =>
        {
            var e = Assert.Throws<InvalidOperationException>(() => ForkJoin.For(2, (start, _) =>
            {
                if (start == 1) throw new InvalidOperationException("chunk 1");
            }));
            Assert.Equal("chunk 1", e.Message);
            int sum = 0;
            ForkJoin.For(2, (start, end) => Interlocked.Add(ref sum, end - start));
            Assert.Equal(2, sum);
        });
    }

    [Fact]
    public void ChunksDoNotForkAgain()
    {
        OnOwnThread(2, () =>
        {
            var inner = new ConcurrentBag<int>();
            ForkJoin.For(2, (_, _) => inner.Add(Parallelism.ChunkCount(100)));
            Assert.All(inner, chunks => Assert.Equal(1, chunks));
        });
    }

    [Fact]
    public void ACallAllocatesNothing()
    {
        OnOwnThread(2, () =>
        {
            Action<int, int> body = static (_, _) => { };
            for (int i = 0; i < 10; i++) ForkJoin.For(2, body);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++) ForkJoin.For(2, body);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        });
    }

    /// <summary>Each call must return only once all its chunks ran exactly once, whoever ran them.</summary>
    private static void ForkAndCheck(int count, int minPerChunk, long[] covered, int call)
    {
        ForkJoin.For(count, (start, end) =>
        {
            for (int i = start; i < end; i++) Interlocked.Increment(ref covered[i]);
        }, minPerChunk);
        for (int i = 0; i < count; i++)
            if (covered[i] != call + 1) throw new Xunit.Sdk.XunitException($"call {call}: item {i} ran {covered[i] - call} times");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void ManyRapidTinyCallsEachRunEveryChunkOnce(int threads)
    {
        OnOwnThread(threads, () =>
        {
            var covered = new long[7];
            for (int call = 0; call < 100_000; call++) ForkAndCheck(covered.Length, 1, covered, call);
        });
    }

    [Fact]
    public void ChangingTheThreadCountBetweenCallsKeepsParallelismsChunks()
    {
        OnOwnThread(2, () =>
        {
            int[] threadCounts = [2, 3, 5, 2, 1, 4];
            for (int call = 0; call < 3000; call++)
            {
                int threads = threadCounts[call % threadCounts.Length], count = 5 + call % 11;
                using var _ = Parallelism.UseThreads(threads);
                var seen = new ConcurrentBag<(int, int)>();
                ForkJoin.For(count, (start, end) => seen.Add((start, end)));
                int chunks = Parallelism.ChunkCount(count);
                var expected = Enumerable.Range(0, chunks).Select(c => Parallelism.Chunk(count, chunks, c)).ToHashSet();
                Assert.Equal(expected, seen.ToHashSet());
                Assert.Equal(chunks, seen.Count);
            }
        });
    }

    [Fact]
    public void ACallInsideAChunkRunsInlineAndCompletely()
    {
        OnOwnThread(2, () =>
        {
            var covered = new long[2 * 9];
            for (int call = 0; call < 500; call++)
            {
                ForkJoin.For(2, (outer, _) =>
                {
                    using var __ = Parallelism.UseThreads(3);
                    ForkJoin.For(9, (start, end) =>
                    {
                        for (int i = start; i < end; i++) Interlocked.Increment(ref covered[outer * 9 + i]);
                    });
                });
                Assert.All(covered, c => Assert.Equal(call + 1, c));
            }
        });
    }

    [Fact]
    public void CallersOnSeveralThreadsAtOnceEachGetTheirChunks()
    {
        var failures = new ConcurrentBag<Exception>();
        var callers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            try
            {
                OnOwnThread(2, () =>
                {
                    var covered = new long[5];
                    for (int call = 0; call < 5000; call++) ForkAndCheck(covered.Length, 1, covered, call);
                });
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        })).ToArray();
        foreach (var caller in callers) caller.Start();
        foreach (var caller in callers) caller.Join();
        Assert.Empty(failures);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void AFailingChunkIsRethrownOnlyOnceNoChunkIsRunning(int failing)
    {
        OnOwnThread(3, () =>
        {
            for (int call = 0; call < 2000; call++)
            {
                int started = 0, finished = 0;
                var e = Assert.Throws<InvalidOperationException>(() => ForkJoin.For(3, (start, _) =>
                {
                    if (start == failing) throw new InvalidOperationException($"chunk {failing}");
                    Interlocked.Increment(ref started);
                    Thread.SpinWait(50);
                    Interlocked.Increment(ref finished);
                }));
                Assert.Equal($"chunk {failing}", e.Message);
                Assert.Equal(Volatile.Read(ref started), Volatile.Read(ref finished));
            }
        });
    }
}
