using Fovea;

namespace Fovea.Tests.Core;

public class TensorTests
{
    [Fact]
    public void HandingOutTheStorageWritableMovesTheVersionReadingItDoesNot()
    {
        using var t = Tensor.Zeros(2, 3);
        int v0 = t.Version;
        _ = t.Values[0];
        Assert.Equal(v0, t.Version);
        t.Span[1] = 2f;
        int v1 = t.Version;
        Assert.NotEqual(v0, v1);
        _ = t.Data;
        Assert.NotEqual(v1, t.Version);
    }

    [Fact]
    public void ShapePrintsLikePyTorch()
    {
        Assert.Equal("[64, 1, 28, 28]", Tensor.Zeros(64, 1, 28, 28).Shape.ToString());
        Assert.Equal("[]", Tensor.Scalar(1).Shape.ToString());
    }

    [Fact]
    public void NegativeAxesCountFromTheEnd()
    {
        var s = new TensorShape(2, 3, 5);
        Assert.Equal(5, s[-1]);
        Assert.Equal(2, s[-3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => s[3]);
    }

    [Fact]
    public void IndexerIsRowMajor()
    {
        var t = Tensor.FromArray([0, 1, 2, 3, 4, 5], 2, 3);
        Assert.Equal(5f, t[1, 2]);
        Assert.Equal(3f, t[-1, 0]);
        Assert.Throws<IndexOutOfRangeException>(() => t[2, 0]);
    }

    [Fact]
    public void DisposedTensorsRefuseUse()
    {
        var t = Tensor.Zeros(3);
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.Span[0]);
    }

    [Fact]
    public void FromArrayChecksTheCount()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.FromArray([1, 2, 3], 2, 2));
        Assert.Contains("[2, 2]", e.Message);
    }

    [Fact]
    public void NegativeDimensionsAreRejected() => Assert.Throws<ArgumentException>(() => new TensorShape(2, -1));

    [Fact]
    public void SameSeedSameSamples()
    {
        var a = Tensor.Normal(new TensorShape(100), 0, 1, new Rng(42));
        var b = Tensor.Normal(new TensorShape(100), 0, 1, new Rng(42));
        var c = Tensor.Normal(new TensorShape(100), 0, 1, new Rng(43));
        Assert.Equal(a.ToArray(), b.ToArray());
        Assert.NotEqual(a.ToArray(), c.ToArray());
    }
}

public class RngTests
{
    [Fact]
    public void StateRoundTripsMidStream()
    {
        var a = new Rng(7);
        a.NextGaussian();
        var state = a.GetState();
        var expected = Enumerable.Range(0, 10).Select(_ => a.NextGaussian()).ToArray();
        var b = new Rng(0);
        b.SetState(state);
        Assert.Equal(expected, Enumerable.Range(0, 10).Select(_ => b.NextGaussian()).ToArray());
    }

    /// <summary>The bulk draw is the same stream as one call at a time, and leaves the generator where those calls would.</summary>
    [Fact]
    public void NextFloatsEqualsSuccessiveNextFloatCalls()
    {
        var one = new Rng(11);
        var bulk = new Rng(11);
        var expected = Enumerable.Range(0, 37).Select(_ => one.NextFloat()).ToArray();
        var actual = new float[37];
        bulk.NextFloats(actual);
        Assert.Equal(expected, actual);
        Assert.Equal(one.NextUInt(), bulk.NextUInt());
    }

    [Fact]
    public void NextIntIsUniformAndInRange()
    {
        var rng = new Rng(1);
        var counts = new int[7];
        for (int i = 0; i < 70_000; i++) counts[rng.NextInt(7)]++;
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
    }

    [Fact]
    public void FloatsAreInTheUnitInterval()
    {
        var rng = new Rng(3);
        double sum = 0;
        for (int i = 0; i < 100_000; i++)
        {
            float f = rng.NextFloat();
            Assert.InRange(f, 0f, 0.99999994f);
            sum += f;
        }
        Assert.InRange(sum / 100_000, 0.495, 0.505);
    }

    [Fact]
    public void GaussianHasUnitVariance()
    {
        var rng = new Rng(5);
        var xs = Enumerable.Range(0, 100_000).Select(_ => rng.NextGaussian()).ToArray();
        Assert.InRange(xs.Average(), -0.02, 0.02);
        Assert.InRange(xs.Select(x => x * x).Average(), 0.98, 1.02);
    }
}

public class ParallelismTests
{
    [Fact]
    public async Task UseThreadsAppliesToTheCallingThreadOnlyAndRestores()
    {
        int global = Parallelism.Threads;
        var scope = Parallelism.UseThreads(3);
        Assert.Equal(3, Parallelism.Threads);
        var onOtherThread = new Thread(() => Assert.Equal(global, Parallelism.Threads));
        onOtherThread.Start();
        onOtherThread.Join();
        using (Parallelism.UseThreads(1)) Assert.Equal(1, Parallelism.Threads);
        Assert.Equal(3, Parallelism.Threads);
        scope.Dispose();
        Assert.Equal(global, Parallelism.Threads);
        await Task.CompletedTask;
    }

    [Fact]
    public void ChunksCoverTheRangeContiguously()
    {
        var seen = new int[1000];
        using var _ = Parallelism.UseThreads(3);
        Parallelism.For(1000, (s, e) => { for (int i = s; i < e; i++) Interlocked.Increment(ref seen[i]); });
        Assert.All(seen, v => Assert.Equal(1, v));
        Assert.Equal((333, 666), Parallelism.Chunk(1000, 3, 1));
    }
}
