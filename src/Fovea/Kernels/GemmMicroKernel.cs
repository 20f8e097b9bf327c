using System.Runtime.CompilerServices;

namespace Fovea.Kernels;

/// <summary>
/// Where the micro-kernel finds, for each step k, the 2·Width values of B it multiplies by: the next
/// row of a packed panel (GEMM) or a shifted window of a padded image (implicit-GEMM convolution).
/// A mutable struct the JIT specialises and keeps in registers.
/// </summary>
internal interface IPanelRows
{
    unsafe float* Next();
}

/// <summary>A packed panel: row k starts <c>k·stride</c> floats after the first.</summary>
internal unsafe struct PackedRows(float* panel, int stride) : IPanelRows
{
    private float* _row = panel;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* Next()
    {
        float* row = _row;
        _row += stride;
        return row;
    }
}

/// <summary>Row k starts at <c>origin + offsets[k]</c>: an im2col matrix read in place, never written.</summary>
internal unsafe struct OffsetRows(float* origin, int* offsets) : IPanelRows
{
    private int* _offset = offsets;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* Next() => origin + *_offset++;
}

/// <summary>
/// Where the micro-kernel finds, for each step k, the Rows values of A it broadcasts: a packed panel
/// (Rows values per k) or rows of A read in place (k contiguous, rows lda apart). A mutable struct the
/// JIT specialises and keeps in registers.
/// </summary>
internal interface IPanelColumns
{
    unsafe float At(int row);
    void Next();
}

/// <summary>A packed panel of A: the Rows values of step k are adjacent.</summary>
internal unsafe struct PackedColumns(float* panel, int rows) : IPanelColumns
{
    private float* _column = panel;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float At(int row) => _column[row];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Next() => _column += rows;
}

/// <summary>Rows of a row-major A read in place: step k of row r is <c>first[r·lda + k]</c>.</summary>
internal unsafe struct RowColumns(float* first, long lda) : IPanelColumns
{
    private float* _column = first;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float At(int row) => _column[row * lda];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Next() => _column++;
}

/// <summary>
/// The register-blocked heart of the GEMM: a <see cref="Rows"/> × (2·Width) tile of C held in vector
/// accumulators while k runs over a packed panel of A (Rows values per k) and rows of B (2·Width values
/// per k). AVX-512 has 32 registers, so its tile has eight rows (16 accumulators, 2 B vectors, a
/// broadcast); AVX2 and SSE have 16, so theirs has six (12 + 3). Each tile has 12 or 16 independent FMA
/// chains, enough to hide FMA latency.
/// </summary>
internal static unsafe class GemmMicroKernel<TVec, TOps> where TVec : struct where TOps : struct, IVectorOps<TVec>
{
    /// <summary>Rows of C per tile; a constant for each specialisation, so the unused rows compile away.</summary>
    public static int Rows
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TOps.Width == 16 ? 8 : 6;
    }

    public static int Cols => 2 * TOps.Width;

    /// <summary>
    /// C[0..Rows, 0..Cols] += alpha · Apanel · B over <paramref name="kc"/> steps; with <paramref name="overwrite"/>,
    /// C = alpha · Apanel · B (whatever C held), which spares a convolution clearing its output first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile<TB>(int kc, float* a, TB b, float* c, int ldc, float alpha, bool overwrite = false) where TB : struct, IPanelRows =>
        Tile(kc, new PackedColumns(a, Rows), b, c, ldc, alpha, overwrite);

    /// <summary>As above, with A from any <see cref="IPanelColumns"/> (a packed panel or rows read in place).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile<TA, TB>(int kc, TA a, TB b, float* c, int ldc, float alpha, bool overwrite = false)
        where TA : struct, IPanelColumns where TB : struct, IPanelRows
    {
        int w = TOps.Width, rows = Rows;
        TVec c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        TVec c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        TVec c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            float* bp = b.Next();
            TVec b0 = TOps.Load(bp), b1 = TOps.Load(bp + w);
            TVec av = TOps.Broadcast(a.At(0));
            c00 = TOps.MultiplyAdd(av, b0, c00); c01 = TOps.MultiplyAdd(av, b1, c01);
            av = TOps.Broadcast(a.At(1));
            c10 = TOps.MultiplyAdd(av, b0, c10); c11 = TOps.MultiplyAdd(av, b1, c11);
            av = TOps.Broadcast(a.At(2));
            c20 = TOps.MultiplyAdd(av, b0, c20); c21 = TOps.MultiplyAdd(av, b1, c21);
            av = TOps.Broadcast(a.At(3));
            c30 = TOps.MultiplyAdd(av, b0, c30); c31 = TOps.MultiplyAdd(av, b1, c31);
            av = TOps.Broadcast(a.At(4));
            c40 = TOps.MultiplyAdd(av, b0, c40); c41 = TOps.MultiplyAdd(av, b1, c41);
            av = TOps.Broadcast(a.At(5));
            c50 = TOps.MultiplyAdd(av, b0, c50); c51 = TOps.MultiplyAdd(av, b1, c51);
            if (rows == 8)
            {
                av = TOps.Broadcast(a.At(6));
                c60 = TOps.MultiplyAdd(av, b0, c60); c61 = TOps.MultiplyAdd(av, b1, c61);
                av = TOps.Broadcast(a.At(7));
                c70 = TOps.MultiplyAdd(av, b0, c70); c71 = TOps.MultiplyAdd(av, b1, c71);
            }
            a.Next();
        }
        TVec al = TOps.Broadcast(alpha);
        AddRow(c, w, al, overwrite, c00, c01); c += ldc;
        AddRow(c, w, al, overwrite, c10, c11); c += ldc;
        AddRow(c, w, al, overwrite, c20, c21); c += ldc;
        AddRow(c, w, al, overwrite, c30, c31); c += ldc;
        AddRow(c, w, al, overwrite, c40, c41); c += ldc;
        AddRow(c, w, al, overwrite, c50, c51);
        if (rows == 8)
        {
            c += ldc;
            AddRow(c, w, al, overwrite, c60, c61); c += ldc;
            AddRow(c, w, al, overwrite, c70, c71);
        }
    }

    /// <summary>C row += alpha·acc, or C row = alpha·acc when overwriting (C is then not read: it may hold NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(float* c, int w, TVec alpha, bool overwrite, TVec lo, TVec hi)
    {
        TVec old0 = overwrite ? default : TOps.Load(c), old1 = overwrite ? default : TOps.Load(c + w);
        TOps.Store(c, TOps.MultiplyAdd(lo, alpha, old0));
        TOps.Store(c + w, TOps.MultiplyAdd(hi, alpha, old1));
    }

    /// <summary>
    /// A tile cut by the edge of C: computed in a scratch tile, then the valid part added (with <paramref name="overwrite"/>,
    /// added to zero, as to a cleared C: the same bits, C not read).
    /// </summary>
    public static void EdgeTile<TA, TB>(int kc, TA a, TB b, float* c, int ldc, float alpha, int rows, int cols, bool overwrite = false)
        where TA : struct, IPanelColumns where TB : struct, IPanelRows
    {
        int nr = Cols;
        float* tile = stackalloc float[Gemm.MaxTileRows * Gemm.MaxTileCols];
        new Span<float>(tile, Rows * nr).Clear();
        Tile(kc, a, b, tile, nr, alpha);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                c[i * ldc + j] = (overwrite ? 0f : c[i * ldc + j]) + tile[i * nr + j];
    }
}
