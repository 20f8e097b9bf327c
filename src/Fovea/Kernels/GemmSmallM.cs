using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// Products with a few rows of C (batch-1 inference is a matrix-vector product) read B in place:
/// packing B costs as much as multiplying it by one row, and a micro-tile of 6 or 8 rows would waste
/// most of its FMAs. A is contiguous rows here (the caller gathers a transposed A first).
/// Every column of C is computed by the same code whatever range it falls in (ranges start on
/// multiples of <see cref="ColumnUnit"/>), so splitting columns across threads changes no bit.
/// </summary>
internal static unsafe class GemmSmallM<TVec, TOps> where TVec : struct where TOps : struct, IVectorOps<TVec>
{
    /// <summary>Columns per block of the B-in-place kernel: four vectors.</summary>
    private static int Block => 4 * TOps.Width;

    /// <summary>
    /// Rows of B longer than this stream without the software prefetch: with rows of 3136 (a CNN's first Linear) it
    /// cost 1.3× on two threads (3136→128 at batch 1: 21.5 against 16.6 µs), the hardware prefetcher keeping up alone.
    /// </summary>
    private const int MaxPrefetchDepth = 1024;

    /// <summary>
    /// C[i, j0..j1] += alpha · Σ_p A[i, p]·B[j, p] with B transposed ([N, K] rows): dot products of
    /// contiguous rows, four rows of B at a time so each A vector load feeds four FMA chains.
    /// </summary>
    public static void DotRows(int m, int j0, int j1, int k, float alpha, float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        int w = TOps.Width, kv = k / w * w;
        for (int j = j0; j < j1; j += 4)
        {
            int cols = Math.Min(4, j1 - j);
            float* b0 = b + (long)j * ldb;
            float* b1 = cols > 1 ? b0 + ldb : b0, b2 = cols > 2 ? b0 + 2L * ldb : b0, b3 = cols > 3 ? b0 + 3L * ldb : b0;
            float* next = b0 + 4L * ldb;
            for (int i = 0; i < m; i++)
            {
                float* ar = a + (long)i * lda;
                bool prefetch = i == 0 && k <= MaxPrefetchDepth && Sse.IsSupported;
                TVec s0 = default, s1 = default, s2 = default, s3 = default;
                for (int p = 0; p < kv; p += w)
                {
                    if (prefetch)
                    {
                        // The next four rows of B into L1 while these stream: the hardware prefetcher restarts at
                        // each new group of rows, and batch-1 Linear 784→256 ran 1.1–1.15× faster with this (the mlp's
                        // batch-1 forward: 12.4 → 11.2 µs). Past the last row a prefetch reads nothing (it never faults).
                        Sse.Prefetch0(next + p);
                        Sse.Prefetch0(next + ldb + p);
                        Sse.Prefetch0(next + 2L * ldb + p);
                        Sse.Prefetch0(next + 3L * ldb + p);
                    }
                    TVec av = TOps.Load(ar + p);
                    s0 = TOps.MultiplyAdd(av, TOps.Load(b0 + p), s0);
                    s1 = TOps.MultiplyAdd(av, TOps.Load(b1 + p), s1);
                    s2 = TOps.MultiplyAdd(av, TOps.Load(b2 + p), s2);
                    s3 = TOps.MultiplyAdd(av, TOps.Load(b3 + p), s3);
                }
                GemmDotTiles<TVec, TOps>.StoreRow(c + (long)i * ldc + j, cols, alpha, kv, k, ar, b0, b1, b2, b3, s0, s1, s2, s3);
            }
        }
    }

    /// <summary>
    /// C[i, j0..j1] += alpha · Σ_p A[i, p]·B[p, j] with B not transposed: each row of C accumulates
    /// rows of B scaled by A[i, p], four vectors of columns at a time, in p order.
    /// </summary>
    public static void AxpyRows(int m, int j0, int j1, int k, float alpha, float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        int w = TOps.Width, block = Block;
        TVec al = TOps.Broadcast(alpha);
        for (int i = 0; i < m; i++)
        {
            float* ar = a + (long)i * lda, cr = c + (long)i * ldc;
            int j = j0;
            for (; j + block <= j1; j += block)
            {
                TVec s0 = default, s1 = default, s2 = default, s3 = default;
                float* bp = b + j;
                for (int p = 0; p < k; p++, bp += ldb)
                {
                    TVec av = TOps.Broadcast(ar[p]);
                    s0 = TOps.MultiplyAdd(av, TOps.Load(bp), s0);
                    s1 = TOps.MultiplyAdd(av, TOps.Load(bp + w), s1);
                    s2 = TOps.MultiplyAdd(av, TOps.Load(bp + 2 * w), s2);
                    s3 = TOps.MultiplyAdd(av, TOps.Load(bp + 3 * w), s3);
                }
                float* cp = cr + j;
                TOps.Store(cp, TOps.MultiplyAdd(s0, al, TOps.Load(cp)));
                TOps.Store(cp + w, TOps.MultiplyAdd(s1, al, TOps.Load(cp + w)));
                TOps.Store(cp + 2 * w, TOps.MultiplyAdd(s2, al, TOps.Load(cp + 2 * w)));
                TOps.Store(cp + 3 * w, TOps.MultiplyAdd(s3, al, TOps.Load(cp + 3 * w)));
            }
            for (; j < j1; j++)
            {
                float sum = 0f;
                for (int p = 0; p < k; p++) sum += ar[p] * b[(long)p * ldb + j];
                cr[j] += alpha * sum;
            }
        }
    }

    /// <summary>Column ranges handed to threads start on multiples of this (a whole number of blocks of every width).</summary>
    public const int ColumnUnit = 64;
}
