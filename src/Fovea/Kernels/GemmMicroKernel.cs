using System.Runtime.CompilerServices;

namespace Fovea.Kernels;

/// <summary>
/// The register-blocked heart of the GEMM: a <see cref="Rows"/> × (2·Width) tile of C held in twelve
/// vector accumulators while k runs over packed panels of A (Rows values per k) and B (2·Width
/// values per k). Six rows keep twelve accumulators plus two B vectors and a broadcast within the
/// sixteen registers of AVX2 and leave room on AVX-512; twelve independent FMAs hide FMA latency.
/// </summary>
internal static unsafe class GemmMicroKernel<TVec, TOps> where TVec : struct where TOps : struct, IVectorOps<TVec>
{
    public const int Rows = Gemm.TileRows;
    public static int Cols => 2 * TOps.Width;

    /// <summary>C[0..Rows, 0..Cols] += alpha · Apanel · Bpanel over <paramref name="kc"/> steps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile(int kc, float* a, float* b, float* c, int ldc, float alpha)
    {
        int w = TOps.Width;
        TVec c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        TVec c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            TVec b0 = TOps.Load(b), b1 = TOps.Load(b + w);
            TVec av = TOps.Broadcast(a[0]);
            c00 = TOps.MultiplyAdd(av, b0, c00); c01 = TOps.MultiplyAdd(av, b1, c01);
            av = TOps.Broadcast(a[1]);
            c10 = TOps.MultiplyAdd(av, b0, c10); c11 = TOps.MultiplyAdd(av, b1, c11);
            av = TOps.Broadcast(a[2]);
            c20 = TOps.MultiplyAdd(av, b0, c20); c21 = TOps.MultiplyAdd(av, b1, c21);
            av = TOps.Broadcast(a[3]);
            c30 = TOps.MultiplyAdd(av, b0, c30); c31 = TOps.MultiplyAdd(av, b1, c31);
            av = TOps.Broadcast(a[4]);
            c40 = TOps.MultiplyAdd(av, b0, c40); c41 = TOps.MultiplyAdd(av, b1, c41);
            av = TOps.Broadcast(a[5]);
            c50 = TOps.MultiplyAdd(av, b0, c50); c51 = TOps.MultiplyAdd(av, b1, c51);
            a += Rows;
            b += 2 * w;
        }
        TVec al = TOps.Broadcast(alpha);
        AddRow(c, w, al, c00, c01); c += ldc;
        AddRow(c, w, al, c10, c11); c += ldc;
        AddRow(c, w, al, c20, c21); c += ldc;
        AddRow(c, w, al, c30, c31); c += ldc;
        AddRow(c, w, al, c40, c41); c += ldc;
        AddRow(c, w, al, c50, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(float* c, int w, TVec alpha, TVec lo, TVec hi)
    {
        TOps.Store(c, TOps.MultiplyAdd(lo, alpha, TOps.Load(c)));
        TOps.Store(c + w, TOps.MultiplyAdd(hi, alpha, TOps.Load(c + w)));
    }

    /// <summary>A tile cut by the edge of C: computed in a scratch tile, then the valid part added.</summary>
    public static void EdgeTile(int kc, float* a, float* b, float* c, int ldc, float alpha, int rows, int cols)
    {
        int nr = Cols;
        float* tile = stackalloc float[Rows * Gemm.MaxTileCols];
        new Span<float>(tile, Rows * nr).Clear();
        Tile(kc, a, b, tile, nr, alpha);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                c[i * ldc + j] += tile[i * nr + j];
    }
}
