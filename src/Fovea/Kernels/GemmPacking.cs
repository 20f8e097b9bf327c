namespace Fovea.Kernels;

/// <summary>
/// Copies blocks of A and B into the order the micro-kernel reads them, so its inner loop streams
/// contiguous memory whatever the operands' layouts (transposed or not). Edges are zero-padded.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs op(A)[i0..i0+mc, p0..p0+kc] into panels of <paramref name="mr"/> rows: panel q holds, for
    /// each k, the mr values of rows q·mr… (element (i, p) of op(A) is a[i·lda + p], or a[p·lda + i] when transposed).
    /// </summary>
    public static void PackA(float* a, int lda, bool trans, int i0, int mc, int p0, int kc, int mr, float* dst)
    {
        if (trans) Panels(a + (long)p0 * lda + i0, laneStride: 1, depthStride: lda, mc, kc, mr, dst);
        else Panels(a + (long)i0 * lda + p0, laneStride: lda, depthStride: 1, mc, kc, mr, dst);
    }

    /// <summary>
    /// Packs op(B)[p0..p0+kc, j0..j0+nc] into panels of <paramref name="nr"/> columns: panel q holds, for
    /// each k, the nr values of columns q·nr… (element (p, j) of op(B) is b[p·ldb + j], or b[j·ldb + p] when transposed).
    /// </summary>
    public static void PackB(float* b, int ldb, bool trans, int p0, int kc, int j0, int nc, int nr, float* dst)
    {
        if (trans) Panels(b + (long)j0 * ldb + p0, laneStride: ldb, depthStride: 1, nc, kc, nr, dst);
        else Panels(b + (long)p0 * ldb + j0, laneStride: 1, depthStride: ldb, nc, kc, nr, dst);
    }

    /// <summary>
    /// Packs <paramref name="lanes"/> × <paramref name="depth"/> elements (lane r, step p at
    /// src[r·laneStride + p·depthStride]) into panels of <paramref name="width"/> lanes, each step's lanes adjacent.
    /// Whichever stride is 1 is read contiguously: a gather of one element per cache line (rows of A,
    /// columns of a transposed B) made packing a sixth of a large product's time.
    /// </summary>
    private static void Panels(float* src, long laneStride, long depthStride, int lanes, int depth, int width, float* dst)
    {
        for (int q = 0; q < lanes; q += width, dst += (long)depth * width)
        {
            int used = Math.Min(width, lanes - q);
            float* first = src + q * laneStride;
            if (depthStride == 1)
            {
                for (int r = 0; r < used; r++)
                {
                    float* s = first + r * laneStride, d = dst + r;
                    for (int p = 0; p < depth; p++) d[p * width] = s[p];
                }
            }
            else
            {
                for (int p = 0; p < depth; p++)
                    new ReadOnlySpan<float>(first + p * depthStride, used).CopyTo(new Span<float>(dst + p * width, used));
            }
            if (used == width) continue;
            for (int p = 0; p < depth; p++) new Span<float>(dst + p * width + used, width - used).Clear();
        }
    }
}
