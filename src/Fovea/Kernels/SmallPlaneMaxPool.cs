using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// Max pooling of small planes (SqueezeNet's 11×11 and 5×5 maps), 16 planes at a time, one plane per lane: the 16
/// planes are transposed to pixel-major, so that each input pixel of all of them is one vector, each output is the running winner over its window's taps in
/// row-major order (the direct loop's rule: a later tap wins when greater, or NaN; taps outside the input never win),
/// and the outputs go back plane by plane. Per plane the separable kernel spent 40–90 ns on setting up its passes over
/// rows of 5 or 11; here a plane costs its share of a transpose and of whole-vector maxima. AVX-512, no argmax (inference).
/// </summary>
internal static unsafe class SmallPlaneMaxPool
{
    private const int Lanes = 16;

    /// <summary>Input pixels per plane up to which this beats the separable kernel (it was 1.5× slower on 23×23 planes).</summary>
    private const int MaxPixels = 144;

    public static bool Supports(PoolGeometry g) =>
        Avx512F.IsSupported && g.DilationH == 1 && g.DilationW == 1 && g.InH * g.InW <= MaxPixels && g.Planes >= Lanes;

    public static void Forward(ReadOnlyMemory<float> x, Memory<float> y, PoolGeometry g)
    {
        int blocks = (g.Planes + Lanes - 1) / Lanes;
        using var pinnedX = x.Pin();
        using var pinnedY = y.Pin();
        nint xAddress = (nint)pinnedX.Pointer, yAddress = (nint)pinnedY.Pointer;
        Parallelism.For(blocks, (start, end) =>
        {
            int inPlane = g.InH * g.InW, outPlane = g.OutH * g.OutW;
            float* xs = (float*)xAddress, ys = (float*)yAddress;
            float[] scratch = TensorPool.Rent((inPlane + outPlane) * Lanes);
            fixed (float* pixels = scratch)
            {
                float* outputs = pixels + inPlane * Lanes;
                for (int block = start; block < end; block++)
                {
                    // The last block overlaps the one before it (there are at least 16 planes): same values written twice.
                    int first = Math.Min(block * Lanes, g.Planes - Lanes);
                    float* source = xs + (long)first * inPlane;
                    ToPixelMajor(source, inPlane, pixels);
                    Pool(g, pixels, outputs);
                    float* target = ys + (long)first * outPlane;
                    for (int lane = 0; lane < Lanes; lane++)
                        for (int q = 0; q < outPlane; q++) target[lane * outPlane + q] = outputs[q * Lanes + lane];
                }
            }
            TensorPool.Return(scratch);
        }, DirectConv.ItemsPerChunk((long)Lanes * g.InH * g.InW));
    }

    /// <summary>
    /// 16 planes of <paramref name="inPlane"/> pixels → <paramref name="pixels"/> [inPlane, 16]: 16 × 16 blocks transposed in
    /// registers (.NET has no AVX-512 gather; scalar moves were most of the time at 11×11).
    /// </summary>
    [SkipLocalsInit]
    private static void ToPixelMajor(float* source, int inPlane, float* pixels)
    {
        var block = stackalloc Vector512<float>[Lanes];
        var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for (int p0 = 0; p0 < inPlane; p0 += Lanes)
        {
            int count = Math.Min(Lanes, inPlane - p0);
            var mask = Vector512.LessThan(lane, Vector512.Create(count)).AsSingle();
            for (int plane = 0; plane < Lanes; plane++) block[plane] = Avx512F.MaskLoad(source + plane * inPlane + p0, mask, Vector512<float>.Zero);
            Transpose(block);
            for (int m = 0; m < count; m++) Vector512.Store(block[m], pixels + (p0 + m) * Lanes);
        }
    }

    /// <summary>Rows r[0..15] → columns, in place: pairs within 128-bit lanes, then quads, then 128-bit blocks twice.</summary>
    [SkipLocalsInit]
    private static void Transpose(Vector512<float>* r)
    {
        var t = stackalloc Vector512<float>[Lanes];
        for (int k = 0; k < 8; k++)
        {
            t[2 * k] = Avx512F.UnpackLow(r[2 * k], r[2 * k + 1]);
            t[2 * k + 1] = Avx512F.UnpackHigh(r[2 * k], r[2 * k + 1]);
        }
        // u[4k + m]: rows 4k … 4k + 3 at columns m, m + 4, m + 8, m + 12 (one per 128-bit block).
        for (int k = 0; k < 4; k++)
        {
            r[4 * k] = Avx512F.Shuffle(t[4 * k], t[4 * k + 2], 0x44);
            r[4 * k + 1] = Avx512F.Shuffle(t[4 * k], t[4 * k + 2], 0xEE);
            r[4 * k + 2] = Avx512F.Shuffle(t[4 * k + 1], t[4 * k + 3], 0x44);
            r[4 * k + 3] = Avx512F.Shuffle(t[4 * k + 1], t[4 * k + 3], 0xEE);
        }
        // Rows 0–7 (t[0..7]) and 8–15 (t[8..15]) at columns m and m + 8 (0x88), m + 4 and m + 12 (0xDD).
        for (int m = 0; m < 4; m++)
        {
            t[m] = Avx512F.Shuffle4x128(r[m], r[4 + m], 0x88);
            t[4 + m] = Avx512F.Shuffle4x128(r[m], r[4 + m], 0xDD);
            t[8 + m] = Avx512F.Shuffle4x128(r[8 + m], r[12 + m], 0x88);
            t[12 + m] = Avx512F.Shuffle4x128(r[8 + m], r[12 + m], 0xDD);
        }
        for (int m = 0; m < 4; m++)
        {
            r[m] = Avx512F.Shuffle4x128(t[m], t[8 + m], 0x88);
            r[m + 8] = Avx512F.Shuffle4x128(t[m], t[8 + m], 0xDD);
            r[m + 4] = Avx512F.Shuffle4x128(t[4 + m], t[12 + m], 0x88);
            r[m + 12] = Avx512F.Shuffle4x128(t[4 + m], t[12 + m], 0xDD);
        }
    }

    /// <summary>Every output of the 16 gathered planes: the winner over its window, taps in row-major order.</summary>
    private static void Pool(PoolGeometry g, float* pixels, float* outputs)
    {
        for (int oh = 0; oh < g.OutH; oh++)
        {
            int top = oh * g.StrideH - g.PadH, rowEnd = Math.Min(top + g.KernelH, g.InH);
            for (int ow = 0; ow < g.OutW; ow++)
            {
                int left = ow * g.StrideW - g.PadW, columnEnd = Math.Min(left + g.KernelW, g.InW);
                var best = Vector512.Create(float.NegativeInfinity);
                for (int ih = Math.Max(0, top); ih < rowEnd; ih++)
                    for (int iw = Math.Max(0, left); iw < columnEnd; iw++)
                        best = SeparableMaxPool.Winner(best, Vector512.Load(pixels + (ih * g.InW + iw) * Lanes));
                Vector512.Store(best, outputs + (oh * g.OutW + ow) * Lanes);
            }
        }
    }
}
