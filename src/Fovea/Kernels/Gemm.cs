using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Numerics.Tensors;

namespace Fovea.Kernels;

/// <summary>Which micro-kernel the GEMM runs: chosen at start-up from the hardware, overridable in tests.</summary>
public enum GemmKernel { Vector512, Vector256, Vector128 }

/// <summary>
/// Single-precision GEMM: C = alpha·op(A)·op(B) + beta·C, row-major, with leading dimensions.
/// op(A) is M×K, op(B) is K×N; transposed operands are read in place by the packing.
/// Blocked as BLIS/MLAS do: KC×NC panels of B and MC×KC blocks of A are packed, then a
/// register-blocked micro-kernel sweeps the tiles. Each element of C is summed over k in the same
/// order whatever the thread count, so results are bitwise reproducible.
/// </summary>
public static unsafe class Gemm
{
    private const int KC = 256, MC = 96, NC = 2048;
    /// <summary>Largest micro-tile of any kernel: 8 rows (Vector512; 6 otherwise) by two vectors.</summary>
    internal const int MaxTileRows = 8, MaxTileCols = 32;

    /// <summary>Rows of C per micro-tile of <paramref name="kernel"/>.</summary>
    internal static int TileRows(GemmKernel kernel) => kernel switch
    {
        GemmKernel.Vector512 => GemmMicroKernel<Vector512<float>, V512>.Rows,
        GemmKernel.Vector256 => GemmMicroKernel<Vector256<float>, V256>.Rows,
        _ => GemmMicroKernel<Vector128<float>, V128>.Rows,
    };

    /// <summary>The widest micro-kernel the hardware accelerates.</summary>
    public static GemmKernel DefaultKernel { get; } =
        Vector512.IsHardwareAccelerated ? GemmKernel.Vector512 :
        Vector256.IsHardwareAccelerated ? GemmKernel.Vector256 : GemmKernel.Vector128;

    /// <summary>Row-major SGEMM. <paramref name="beta"/> = 0 overwrites C (whatever it held, NaN included).</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc) =>
        Sgemm(DefaultKernel, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    /// <summary>SGEMM with an explicit micro-kernel (tests run all three).</summary>
    public static void Sgemm(GemmKernel kernel, bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0) return;
        // With beta 0 the packed path writes C over on its first block of k instead: clearing C first was a pass over all
        // of it (4 MB at 1024³), and the first block's tiles then read it back.
        bool dots = UsesDotTiles(transA, transB, m, n, k);
        bool overwrite = beta == 0f && k > 0 && alpha != 0f && m > SmallRows && !dots;
        for (int i = 0; i < m && !overwrite; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f) TensorPrimitives.Multiply(row, beta, row);
        }
        if (k == 0 || alpha == 0f) return;

        fixed (float* pa = a, pb = b, pc = c)
        {
            // Split whichever of M and N is larger across threads; tiny products stay on one thread.
            long flops = (long)m * n * k;
            int threads = flops < (m <= SmallRows ? SmallRowsForkFlops : ForkFlops) ? 1 : Parallelism.Threads;
            if (m <= SmallRows)
            {
                RunSmallM(kernel, threads, transA, transB, m, n, k, alpha, pa, lda, pb, ldb, pc, ldc);
                return;
            }
            bool aInPlace = !dots && ReadsAInPlace(transA, n);
            var job = new Job(transA, transB, dots, aInPlace, overwrite, k, alpha, pa, lda, pb, ldb, pc, ldc);
            bool splitM = aInPlace ? !SplitsColumns(n, threads) : m >= n;
            int unit = dots ? 4 : splitM ? TileRows(kernel) : MaxTileCols;
            int units = ((splitM ? m : n) + unit - 1) / unit;
            int chunks = Math.Max(1, Math.Min(threads, units));
            // Chunks are whole tiles, so every element is summed by the same code in the same order.
            if (chunks == 1) job.Run(kernel, 0, m, 0, n);
            else RunInParallel(job, kernel, chunks, units, unit, splitM, m, n);
        }
    }

    /// <summary>
    /// A·Bᵀ with both operands contiguous along k runs as dot-product tiles (<see cref="GemmDotTiles{TVec, TOps}"/>)
    /// where packing does not pay: up to <see cref="DotRowsMax"/> rows of C with k ≥ 2N (a small Linear batch:
    /// 1.4× the packed path at 16 rows, whose transposed panels of B then feed too few rows), or N under one
    /// panel (a classifier's 10 outputs: 2×). From 24 rows on, the packed path (vectorised transposes, panels
    /// packed just before use) was 1.2–1.8× faster (Linear 784→256, 1024→256, 2048→256, 3136→128 at 24–64 rows).
    /// </summary>
    private static bool UsesDotTiles(bool transA, bool transB, int m, int n, int k) =>
        transB && !transA && (n < MaxTileCols || m <= DotRowsMax && k >= 2 * n);

    private const int DotRowsMax = 16;

    /// <summary>
    /// Whether the packed path reads rows of an untransposed B in place: with few rows of C each packed
    /// element of B would feed only a few FMAs, so copying it cost more than the product (convolutions as
    /// GEMM: M = 16…64 output channels, N = pixels). The kernel reads the same values in the same order either way.
    /// </summary>
    private static bool ReadsBInPlace(bool transB, int rows) => !transB && rows <= 16;

    /// <summary>
    /// Whether the packed path broadcasts A from its rows in place (whole row panels; a ragged last one is
    /// still packed): where each element of A meets at most <see cref="InPlaceAColumns"/> columns, packing it
    /// cost 3–7 % of the product (256³, the mlp's Linear layers at batch 256), and it lets threads split N
    /// without each packing all of A. Wider products pack: rows a power-of-two stride apart share L1 sets
    /// (1024³ was 3 % slower in place). The kernel reads the same values in the same order either way.
    /// </summary>
    private static bool ReadsAInPlace(bool transA, int n) => !transA && n <= InPlaceAColumns;

    private const int InPlaceAColumns = 512;

    /// <summary>
    /// With A read in place, threads split the columns when that keeps them balanced: each then packs only
    /// its own panels of B, where splitting rows made every thread pack all of B (a tenth of a 256³ product).
    /// </summary>
    private static bool SplitsColumns(int n, int threads)
    {
        int panels = (n + MaxTileCols - 1) / MaxTileCols;
        return panels >= threads && (panels % threads == 0 || panels >= 4 * threads);
    }

    /// <summary>Products below this many multiply-adds run on the calling thread: waking a worker costs more.</summary>
    private const long ForkFlops = 1 << 18;

    /// <summary>
    /// The same for products of a few rows (batch-1 Linear layers): they stream B once and are bound by the
    /// cache's bandwidth, which two cores double, and a hand-off to a spinning worker costs well under a microsecond.
    /// </summary>
    internal const long SmallRowsForkFlops = 1 << 16;

    /// <summary>Up to this many rows of C, B is read in place (<see cref="GemmSmallM{TVec, TOps}"/>) rather than packed.</summary>
    internal const int SmallRows = 4;

    private static void RunSmallM(GemmKernel kernel, int threads, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        float[]? rows = null;
        try
        {
            if (transA)
            {
                // The kernels want contiguous rows of op(A); m·k floats are cheap to gather next to m·n·k FMAs.
                rows = TensorPool.Rent(m * k);
                for (int i = 0; i < m; i++)
                    for (int p = 0; p < k; p++) rows[i * k + p] = a[(long)p * lda + i];
            }
            fixed (float* gathered = rows)
            {
                var job = new SmallJob(transB, m, k, alpha, transA ? gathered : a, transA ? k : lda, b, ldb, c, ldc);
                int unit = GemmSmallM<Vector128<float>, V128>.ColumnUnit, units = (n + unit - 1) / unit;
                int chunks = Math.Max(1, Math.Min(threads, units));
                if (chunks == 1) job.Run(kernel, 0, n);
                else Parallelism.For(chunks, (c0, c1) =>
                {
                    for (int ci = c0; ci < c1; ci++)
                    {
                        var (u0, u1) = Parallelism.Chunk(units, chunks, ci);
                        job.Run(kernel, u0 * unit, Math.Min(n, u1 * unit));
                    }
                });
            }
        }
        finally
        {
            if (rows is not null) TensorPool.Return(rows);
        }
    }

    private readonly struct SmallJob(bool transB, int m, int k, float alpha, float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        public void Run(GemmKernel kernel, int j0, int j1)
        {
            switch (kernel)
            {
                case GemmKernel.Vector512: Run<Vector512<float>, V512>(j0, j1); break;
                case GemmKernel.Vector256: Run<Vector256<float>, V256>(j0, j1); break;
                default: Run<Vector128<float>, V128>(j0, j1); break;
            }
        }

        private void Run<TVec, TOps>(int j0, int j1) where TVec : struct where TOps : struct, IVectorOps<TVec>
        {
            if (transB) GemmSmallM<TVec, TOps>.DotRows(m, j0, j1, k, alpha, a, lda, b, ldb, c, ldc);
            else GemmSmallM<TVec, TOps>.AxpyRows(m, j0, j1, k, alpha, a, lda, b, ldb, c, ldc);
        }
    }

    // A separate method so that single-threaded products (most calls inside a convolution) allocate no closure.
    private static void RunInParallel(Job job, GemmKernel kernel, int chunks, int units, int unit, bool splitM, int m, int n) =>
        Parallelism.For(chunks, (c0, c1) =>
        {
            for (int ci = c0; ci < c1; ci++)
            {
                var (u0, u1) = Parallelism.Chunk(units, chunks, ci);
                if (splitM) job.Run(kernel, u0 * unit, Math.Min(m, u1 * unit), 0, n);
                else job.Run(kernel, 0, m, u0 * unit, Math.Min(n, u1 * unit));
            }
        });

    private readonly struct Job(bool transA, bool transB, bool dots, bool aInPlace, bool overwrite, int k, float alpha, float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        public void Run(GemmKernel kernel, int i0, int i1, int j0, int j1)
        {
            switch (kernel)
            {
                case GemmKernel.Vector512: Run<Vector512<float>, V512>(i0, i1, j0, j1); break;
                case GemmKernel.Vector256: Run<Vector256<float>, V256>(i0, i1, j0, j1); break;
                default: Run<Vector128<float>, V128>(i0, i1, j0, j1); break;
            }
        }

        private void Run<TVec, TOps>(int i0, int i1, int j0, int j1) where TVec : struct where TOps : struct, IVectorOps<TVec>
        {
            if (dots)
            {
                GemmDotTiles<TVec, TOps>.Run(i0, i1, j0, j1, k, alpha, a, lda, b, ldb, c, ldc);
                return;
            }
            int mr = GemmMicroKernel<TVec, TOps>.Rows;
            int nr = GemmMicroKernel<TVec, TOps>.Cols;
            int ncMax = Math.Min(NC, RoundUp(j1 - j0, nr)), kcMax = Math.Min(KC, k);
            bool readInPlace = ReadsBInPlace(transB, i1 - i0);
            float[] bufA = TensorPool.Rent(RoundUp(MC, mr) * kcMax), bufB = TensorPool.Rent(ncMax * kcMax);
            try
            {
                fixed (float* packA = bufA, packB = bufB)
                {
                    for (int jc = j0; jc < j1; jc += NC)
                    {
                        int nc = Math.Min(NC, j1 - jc);
                        for (int pc = 0; pc < k; pc += KC)
                        {
                            int kc = Math.Min(KC, k - pc);
                            // Whole column panels of an unpacked B are read in place (see ReadsBInPlace); only the ragged last one is packed.
                            int packedFrom = readInPlace ? nc / nr * nr : 0;
                            // With a single block of A, each panel of B is packed just before its tiles use it, so it is
                            // still in L1 (the whole 2048-column block of packed B outgrew L2): 1.05–1.4× on
                            // convolutions as GEMM (M = 24…64) and Linear layers at 48–64 rows.
                            bool panelwise = i1 - i0 <= MC;
                            if (!panelwise && packedFrom < nc) GemmPacking.PackB(b, ldb, transB, pc, kc, jc + packedFrom, nc - packedFrom, nr, packB);
                            for (int ic = i0; ic < i1; ic += MC)
                            {
                                int mc = Math.Min(MC, i1 - ic);
                                // Whole row panels of A are read in place (see ReadsAInPlace); only the ragged last one is packed.
                                int inPlaceRows = aInPlace ? mc / mr * mr : 0;
                                if (inPlaceRows < mc) GemmPacking.PackA(a, lda, transA, ic + inPlaceRows, mc - inPlaceRows, pc, kc, mr, packA);
                                for (int jr = 0; jr < nc; jr += nr)
                                {
                                    int cols = Math.Min(nr, nc - jr);
                                    if (panelwise && jr >= packedFrom) GemmPacking.PackB(b, ldb, transB, pc, kc, jc + jr, cols, nr, packB);
                                    var bp = jr < packedFrom ? new PackedRows(b + (long)pc * ldb + jc + jr, ldb) : new PackedRows(packB + (panelwise ? 0 : (jr - packedFrom) * kc), nr);
                                    for (int ir = 0; ir < mc; ir += mr)
                                    {
                                        int rows = Math.Min(mr, mc - ir);
                                        float* cp = c + (long)(ic + ir) * ldc + jc + jr;
                                        bool fresh = overwrite && pc == 0;
                                        if (ir < inPlaceRows) Tile<TVec, TOps, RowColumns>(new RowColumns(a + (long)(ic + ir) * lda + pc, lda), bp, kc, cp, rows, cols, fresh);
                                        else Tile<TVec, TOps, PackedColumns>(new PackedColumns(packA + (ir - inPlaceRows) * kc, mr), bp, kc, cp, rows, cols, fresh);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            finally
            {
                TensorPool.Return(bufA);
                TensorPool.Return(bufB);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Tile<TVec, TOps, TA>(TA ap, PackedRows bp, int kc, float* cp, int rows, int cols, bool fresh)
            where TVec : struct where TOps : struct, IVectorOps<TVec> where TA : struct, IPanelColumns
        {
            if (rows == GemmMicroKernel<TVec, TOps>.Rows && cols == GemmMicroKernel<TVec, TOps>.Cols) GemmMicroKernel<TVec, TOps>.Tile(kc, ap, bp, cp, ldc, alpha, fresh);
            else GemmMicroKernel<TVec, TOps>.EdgeTile(kc, ap, bp, cp, ldc, alpha, rows, cols, fresh);
        }
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

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
