using System.Collections.Concurrent;

namespace Fovea.Tests.Kernels;

/// <summary>The allocation-free fork-join: Parallelism's chunks, errors passed back, no nested forking, nothing allocated.</summary>
public class ForkJoinTests
{
    /// <summary>Runs <paramref name="action"/> on a fresh thread with <paramref name="threads"/> threads and waits for it.</summary>
    private static void OnOwnThread(int threads, Action action)
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
}
