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
        for (int q = 0; q < mc; q += mr)
        {
            int rows = Math.Min(mr, mc - q);
            for (int p = 0; p < kc; p++)
            {
                for (int r = 0; r < rows; r++)
                {
                    int i = i0 + q + r, k = p0 + p;
                    dst[r] = trans ? a[(long)k * lda + i] : a[(long)i * lda + k];
                }
                for (int r = rows; r < mr; r++) dst[r] = 0f;
                dst += mr;
            }
        }
    }

    /// <summary>
    /// Packs op(B)[p0..p0+kc, j0..j0+nc] into panels of <paramref name="nr"/> columns: panel q holds, for
    /// each k, the nr values of columns q·nr… (element (p, j) of op(B) is b[p·ldb + j], or b[j·ldb + p] when transposed).
    /// </summary>
    public static void PackB(float* b, int ldb, bool trans, int p0, int kc, int j0, int nc, int nr, float* dst)
    {
        if (trans)
        {
            PackTransposedB(b, ldb, p0, kc, j0, nc, nr, dst);
            return;
        }
        for (int q = 0; q < nc; q += nr)
        {
            int cols = Math.Min(nr, nc - q);
            for (int p = 0; p < kc; p++)
            {
                float* src = b + (long)(p0 + p) * ldb + j0 + q;
                if (cols == nr) new ReadOnlySpan<float>(src, nr).CopyTo(new Span<float>(dst, nr));
                else
                {
                    for (int j = 0; j < cols; j++) dst[j] = src[j];
                    for (int j = cols; j < nr; j++) dst[j] = 0f;
                }
                dst += nr;
            }
        }
    }

    /// <summary>
    /// Column j of op(B) is row j of B: reading each row contiguously (and writing with stride nr into a
    /// panel that stays in L1) beats gathering every k across nr rows, which touched a new line per element.
    /// </summary>
    private static void PackTransposedB(float* b, int ldb, int p0, int kc, int j0, int nc, int nr, float* dst)
    {
        for (int q = 0; q < nc; q += nr)
        {
            int cols = Math.Min(nr, nc - q);
            for (int j = 0; j < cols; j++)
            {
                float* src = b + (long)(j0 + q + j) * ldb + p0;
                float* d = dst + j;
                for (int p = 0; p < kc; p++) d[p * nr] = src[p];
            }
            for (int j = cols; j < nr; j++)
                for (int p = 0; p < kc; p++) dst[p * nr + j] = 0f;
            dst += kc * nr;
        }
    }
}
