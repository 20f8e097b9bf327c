namespace Fovea.Kernels;

/// <summary>
/// Single-precision GEMM: C = alpha·op(A)·op(B) + beta·C, row-major, with leading dimensions.
/// op(A) is M×K, op(B) is K×N. Transposed operands are read in place (no copy by the caller).
/// </summary>
public static class Gemm
{
    /// <summary>Row-major SGEMM. <paramref name="beta"/> = 0 overwrites C (NaNs in C are ignored, as BLAS does).</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        GemmReference.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    internal static void Validate(bool transA, bool transB, int m, int n, int k, int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"Sgemm: sizes must be non-negative. Received M={m}, N={n}, K={k}");
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        Check("A", aRows, aCols, aLength, lda);
        Check("B", bRows, bCols, bLength, ldb);
        Check("C", m, n, cLength, ldc);

        static void Check(string name, int rows, int cols, int length, int ld)
        {
            if (rows == 0 || cols == 0) return;
            if (ld < cols) throw new ArgumentException($"Sgemm: leading dimension of {name} ({ld}) is smaller than its {cols} columns.");
            if ((long)(rows - 1) * ld + cols > length) throw new ArgumentException($"Sgemm: {name} needs {(long)(rows - 1) * ld + cols} elements ({rows}×{cols}, ld {ld}). Received: {length}");
        }
    }
}

/// <summary>A straightforward, vectorised-along-N GEMM; correct for every case, the baseline for the packed kernels.</summary>
internal static class GemmReference
{
    public static void Run(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        float[]? bT = null;
        if (transB && n > 0 && k > 0)
        {
            // Make B row-major K×N so the inner loop runs along contiguous memory.
            bT = TensorPool.Rent(k * n);
            for (int p = 0; p < k; p++)
                for (int j = 0; j < n; j++)
                    bT[p * n + j] = b[j * ldb + p];
        }
        ReadOnlySpan<float> bRows = bT is null ? b : bT.AsSpan(0, k * n);
        int ldbRows = bT is null ? ldb : n;
        for (int i = 0; i < m; i++)
        {
            var ci = c.Slice(i * ldc, n);
            if (beta == 0f) ci.Clear();
            else if (beta != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(ci, beta, ci);
            for (int p = 0; p < k; p++)
            {
                float aip = alpha * (transA ? a[p * lda + i] : a[i * lda + p]);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(bRows.Slice(p * ldbRows, n), aip, ci, ci);
            }
        }
        if (bT is not null) TensorPool.Return(bT);
    }
}
