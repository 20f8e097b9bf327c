using Fovea;
using Fovea.Kernels;
using Fovea.Tests.Support;

namespace Fovea.Tests.Kernels;

public class GemmTests
{
    /// <summary>The naive twin: C = alpha·op(A)·op(B) + beta·C in double.</summary>
    private static float[] Naive(bool ta, bool tb, int m, int n, int k, float alpha, float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc)
    {
        var r = (float[])c.Clone();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double)(ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
                r[i * ldc + j] = (float)(alpha * s + (beta == 0 ? 0 : beta * c[i * ldc + j]));
            }
        return r;
    }

    public static TheoryData<GemmKernel, int, int, int, bool, bool> Shapes()
    {
        var data = new TheoryData<GemmKernel, int, int, int, bool, bool>();
        int[][] shapes =
        [
            [1, 1, 1], [6, 32, 1], [5, 15, 7], [7, 17, 3], [13, 33, 29], [12, 64, 256], [11, 31, 257],
            [97, 5, 255], [1, 100, 300], [100, 1, 300], [37, 70, 513], [200, 2100, 9],
            // At most Gemm.SmallRows rows: B read in place, column blocks and k tails of every vector width.
            [2, 200, 37], [3, 67, 16], [4, 129, 1000], [1, 257, 784],
            // B transposed, up to 16 rows with k ≥ 2N or N under a panel: dot-product tiles, k across the 1024-float depth blocks;
            // from 17 rows on the packed path (transposed panels of B).
            [9, 6, 2500], [16, 130, 1031], [17, 130, 1031], [61, 130, 1031], [90, 11, 40],
            // Up to 16 rows an untransposed B is read in place, its ragged last column panel packed.
            [16, 97, 300],
            // Up to 512 columns whole row panels of A are read in place, the ragged last one packed: across the
            // 96-row block and the 256-deep k block (k below, at, above), and just past the column limit.
            [101, 96, 300], [8, 512, 256], [95, 65, 255], [9, 513, 257], [200, 31, 513],
            // Up to 96 rows (one block of A) each panel of B is packed just before use: across the 2048-column block.
            [33, 2081, 17],
        ];
        foreach (var kernel in Enum.GetValues<GemmKernel>())
            foreach (var s in shapes)
                foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
                    data.Add(kernel, s[0], s[1], s[2], ta, tb);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesTheNaiveLoopOnTileEdges(GemmKernel kernel, int m, int n, int k, bool ta, bool tb)
    {
        // Leading dimensions larger than the logical width catch stride mistakes.
        int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
        var a = TestArrays.Uniform((ta ? k : m) * lda, 1);
        var b = TestArrays.Uniform((tb ? n : k) * ldb, 2);
        var c = TestArrays.Uniform(m * ldc, 3);
        var expected = Naive(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, 0.5f, c, ldc);
        Gemm.Sgemm(kernel, ta, tb, m, n, k, 0.75f, a, lda, b, ldb, 0.5f, c, ldc);
        TensorAssert.Close(expected, c, 1e-4, 1e-4 * Math.Sqrt(k), $"{kernel} {m}x{n}x{k} ta={ta} tb={tb}");
    }

    [Fact]
    public void BetaZeroOverwritesNaNs()
    {
        var c = new float[] { float.NaN, float.NaN };
        Gemm.Sgemm(false, false, 1, 2, 1, 1f, [2f], 1, [3f, 4f], 2, 0f, c, 2);
        Assert.Equal([6f, 8f], c);
    }

    /// <summary>
    /// With beta 0 the packed path writes C over on its first block of k without reading it: NaNs in C vanish, and the
    /// bits are those of the same product added to a cleared C (full and edge tiles, k across blocks, A in place and packed).
    /// </summary>
    [Theory]
    [InlineData(37, 70, 300, false, false)]
    [InlineData(101, 96, 513, true, false)]
    [InlineData(200, 600, 257, false, true)]
    [InlineData(17, 130, 1031, true, true)]
    public void BetaZeroWritesOverCInThePackedPath(int m, int n, int k, bool ta, bool tb)
    {
        var a = TestArrays.Uniform(m * k, 11);
        var b = TestArrays.Uniform(k * n, 12);
        var overwritten = Enumerable.Repeat(float.NaN, m * n).ToArray();
        var added = new float[m * n];
        Gemm.Sgemm(ta, tb, m, n, k, 0.75f, a, ta ? m : k, b, tb ? k : n, 0f, overwritten, n);
        Gemm.Sgemm(ta, tb, m, n, k, 0.75f, a, ta ? m : k, b, tb ? k : n, 1f, added, n);
        Assert.Equal(added, overwritten);
    }

    [Fact]
    public void ResultsDoNotDependOnTheThreadCount()
    {
        int m = 300, n = 500, k = 700;
        var a = TestArrays.Uniform(m * k, 4);
        var b = TestArrays.Uniform(k * n, 5);
        float[] Run(int threads)
        {
            using var _ = Parallelism.UseThreads(threads);
            var c = new float[m * n];
            Gemm.Sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n);
            return c;
        }
        Assert.Equal(Run(1), Run(2));
        Assert.Equal(Run(2), Run(3));
    }

    [Theory]
    [InlineData(3, 1000, 500, false)]
    [InlineData(3, 1000, 500, true)]
    [InlineData(37, 70, 1500, true)]
    [InlineData(64, 37, 1500, true)]
    [InlineData(300, 20, 100, true)]
    [InlineData(203, 96, 300, false)]
    [InlineData(203, 96, 300, true)]
    [InlineData(256, 256, 784, true)]
    public void ProductsThatSkipPackingDoNotDependOnTheThreadCount(int m, int n, int k, bool transB)
    {
        var a = TestArrays.Uniform(m * k, 6);
        var b = TestArrays.Uniform(k * n, 7);
        float[] Run(int threads)
        {
            using var _ = Parallelism.UseThreads(threads);
            var c = new float[m * n];
            Gemm.Sgemm(false, transB, m, n, k, 1f, a, k, b, transB ? k : n, 0f, c, n);
            return c;
        }
        Assert.Equal(Run(1), Run(2));
        Assert.Equal(Run(2), Run(3));
    }

    [Fact]
    public void TooShortOperandsAreRejectedWithTheirSizes()
    {
        var e = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 2, 2, 2, 1f, new float[3], 2, new float[4], 2, 0f, new float[4], 2));
        Assert.Contains("A needs 4", e.Message);
    }
}
