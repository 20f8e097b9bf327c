namespace Fovea.Kernels;

/// <summary>
/// C += alpha · A · Bᵀ with A [M, K] and B [N, K] both contiguous along k (a Linear layer's forward):
/// 4×4 tiles of C as sixteen vector dot products, so neither operand is packed. Packing Bᵀ for the
/// blocked GEMM transposes all of B, which for the few rows of a Linear batch cost as much as the FMAs.
/// Each step loads four vectors of A and four of B for sixteen FMAs, and k runs in blocks of
/// <see cref="DepthBlock"/> so the B rows of a tile stay in L1 while the rows of A stream from L2.
/// Every element of C is summed the same way whichever range of rows or columns holds it.
/// </summary>
internal static unsafe class GemmDotTiles<TVec, TOps> where TVec : struct where TOps : struct, IVectorOps<TVec>
{
    /// <summary>Floats of k per block: four rows of A and four of B (32 KB) fit in L1.</summary>
    private const int DepthBlock = 1024;

    public static void Run(int i0, int i1, int j0, int j1, int k, float alpha, float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        for (int p0 = 0; p0 < k; p0 += DepthBlock)
        {
            int kc = Math.Min(DepthBlock, k - p0);
            for (int j = j0; j < j1; j += 4)
            {
                int cols = Math.Min(4, j1 - j);
                for (int i = i0; i < i1; i += 4)
                    Tile(Math.Min(4, i1 - i), cols, kc, alpha, a + (long)i * lda + p0, lda, b + (long)j * ldb + p0, ldb, c + (long)i * ldc + j, ldc);
            }
        }
    }

    /// <summary>
    /// A rows × cols tile (at most 4×4). Missing rows and columns alias the first one, so the loop has
    /// one shape; their sums are simply not stored.
    /// </summary>
    private static void Tile(int rows, int cols, int kc, float alpha, float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        int w = TOps.Width, kv = kc / w * w;
        float* a0 = a, a1 = rows > 1 ? a + lda : a, a2 = rows > 2 ? a + 2L * lda : a, a3 = rows > 3 ? a + 3L * lda : a;
        float* b0 = b, b1 = cols > 1 ? b + ldb : b, b2 = cols > 2 ? b + 2L * ldb : b, b3 = cols > 3 ? b + 3L * ldb : b;
        TVec s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
        TVec s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
        for (int p = 0; p < kv; p += w)
        {
            TVec v0 = TOps.Load(b0 + p), v1 = TOps.Load(b1 + p), v2 = TOps.Load(b2 + p), v3 = TOps.Load(b3 + p);
            TVec u = TOps.Load(a0 + p);
            s00 = TOps.MultiplyAdd(u, v0, s00); s01 = TOps.MultiplyAdd(u, v1, s01); s02 = TOps.MultiplyAdd(u, v2, s02); s03 = TOps.MultiplyAdd(u, v3, s03);
            u = TOps.Load(a1 + p);
            s10 = TOps.MultiplyAdd(u, v0, s10); s11 = TOps.MultiplyAdd(u, v1, s11); s12 = TOps.MultiplyAdd(u, v2, s12); s13 = TOps.MultiplyAdd(u, v3, s13);
            u = TOps.Load(a2 + p);
            s20 = TOps.MultiplyAdd(u, v0, s20); s21 = TOps.MultiplyAdd(u, v1, s21); s22 = TOps.MultiplyAdd(u, v2, s22); s23 = TOps.MultiplyAdd(u, v3, s23);
            u = TOps.Load(a3 + p);
            s30 = TOps.MultiplyAdd(u, v0, s30); s31 = TOps.MultiplyAdd(u, v1, s31); s32 = TOps.MultiplyAdd(u, v2, s32); s33 = TOps.MultiplyAdd(u, v3, s33);
        }
        StoreRow(c, cols, alpha, kv, kc, a0, b0, b1, b2, b3, s00, s01, s02, s03);
        if (rows > 1) StoreRow(c + ldc, cols, alpha, kv, kc, a1, b0, b1, b2, b3, s10, s11, s12, s13);
        if (rows > 2) StoreRow(c + 2L * ldc, cols, alpha, kv, kc, a2, b0, b1, b2, b3, s20, s21, s22, s23);
        if (rows > 3) StoreRow(c + 3L * ldc, cols, alpha, kv, kc, a3, b0, b1, b2, b3, s30, s31, s32, s33);
    }

    /// <summary>C[0..cols] += alpha · (the four dot products of row a with rows b0…b3: vector sums plus k tails).</summary>
    internal static void StoreRow(float* c, int cols, float alpha, int kv, int kc, float* a, float* b0, float* b1, float* b2, float* b3, TVec s0, TVec s1, TVec s2, TVec s3)
    {
        c[0] += alpha * Finish(TOps.Sum(s0), a, b0, kv, kc);
        if (cols > 1) c[1] += alpha * Finish(TOps.Sum(s1), a, b1, kv, kc);
        if (cols > 2) c[2] += alpha * Finish(TOps.Sum(s2), a, b2, kv, kc);
        if (cols > 3) c[3] += alpha * Finish(TOps.Sum(s3), a, b3, kv, kc);
    }

    /// <summary>The vector lanes' sum plus the last kc % Width products, in order.</summary>
    private static float Finish(float sum, float* a, float* b, int from, int kc)
    {
        for (int p = from; p < kc; p++) sum += a[p] * b[p];
        return sum;
    }
}
