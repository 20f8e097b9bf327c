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
                    PixelMajor.FromPlanes(source, inPlane, Lanes, inPlane, pixels);
                    Pool(g, pixels, Lanes, outputs, 0, g.OutH);
                    PixelMajor.ToPlanes(outputs, outPlane, ys + (long)first * outPlane, outPlane, Lanes);
                }
            }
            TensorPool.Return(scratch);
        }, DirectConv.ItemsPerChunk((long)Lanes * g.InH * g.InW));
    }

    /// <summary>
    /// Every output of 16 planes laid out pixel-major (pixel p's 16 values at <paramref name="pixels"/> +
    /// p·<paramref name="pixelStride"/>): the winner over its window, taps in row-major order, from −∞ (taps outside the
    /// plane never win), each output's 16 values to <paramref name="outputs"/> + 16·q. Also the fused pool of
    /// <see cref="ChannelVectorConv"/>, whose pixels hold all the block's channels, a few output rows at a time
    /// ([<paramref name="firstRow"/>, <paramref name="endRow"/>)) as the conv computes the rows they read.
    /// </summary>
    internal static void Pool(PoolGeometry g, float* pixels, long pixelStride, float* outputs, int firstRow, int endRow)
    {
        // Windows whose columns all lie inside the plane: [fullFrom, fullTo).
        int fullFrom = Math.Min(g.OutW, (g.PadW + g.StrideW - 1) / g.StrideW), reach = g.InW + g.PadW - g.KernelW;
        int fullTo = reach < 0 ? fullFrom : Math.Clamp(reach / g.StrideW + 1, fullFrom, g.OutW);
        for (int oh = firstRow; oh < endRow; oh++)
        {
            int top = oh * g.StrideH - g.PadH, rowStart = Math.Max(0, top), rowEnd = Math.Min(top + g.KernelH, g.InH);
            float* row = outputs + (long)oh * g.OutW * Lanes;
            for (int ow = 0; ow < g.OutW;)
            {
                // Four inside windows at once where there are four (the last four of the run where fewer are left: a
                // window pooled twice gets the same value); else one.
                int four = ow < fullFrom || fullTo - fullFrom < 4 ? -1 : Math.Min(ow, fullTo - 4);
                if (four >= 0 && four + 4 > ow)
                {
                    PoolFour(g, pixels, pixelStride, rowStart, rowEnd, four * g.StrideW - g.PadW, row + four * Lanes);
                    ow = four + 4;
                    continue;
                }
                int left = ow * g.StrideW - g.PadW, columnEnd = Math.Min(left + g.KernelW, g.InW);
                var best = Vector512.Create(float.NegativeInfinity);
                for (int ih = rowStart; ih < rowEnd; ih++)
                    for (int iw = Math.Max(0, left); iw < columnEnd; iw++)
                        best = SeparableMaxPool.Winner(best, Vector512.Load(pixels + (ih * g.InW + iw) * pixelStride));
                Vector512.Store(best, row + ow * Lanes);
                ow++;
            }
        }
    }

    /// <summary>
    /// Four neighbouring windows inside the plane's columns, from column <paramref name="left"/>: four independent running
    /// winners, each over its taps in row-major order. One window's chain (a compare and a blend a tap, each waiting for
    /// the last) was latency-bound: SqueezeNet-style's fused stem pool took 3.7 ns a tap, as long as its conv.
    /// </summary>
    private static void PoolFour(PoolGeometry g, float* pixels, long pixelStride, int rowStart, int rowEnd, int left, float* outputs)
    {
        long step = g.StrideW * pixelStride;
        var b0 = Vector512.Create(float.NegativeInfinity);
        var b1 = b0;
        var b2 = b0;
        var b3 = b0;
        for (int ih = rowStart; ih < rowEnd; ih++)
        {
            float* tap = pixels + ((long)ih * g.InW + left) * pixelStride;
            for (int kw = 0; kw < g.KernelW; kw++, tap += pixelStride)
            {
                b0 = SeparableMaxPool.Winner(b0, Vector512.Load(tap));
                b1 = SeparableMaxPool.Winner(b1, Vector512.Load(tap + step));
                b2 = SeparableMaxPool.Winner(b2, Vector512.Load(tap + 2 * step));
                b3 = SeparableMaxPool.Winner(b3, Vector512.Load(tap + 3 * step));
            }
        }
        b0.Store(outputs);
        b1.Store(outputs + Lanes);
        b2.Store(outputs + 2 * Lanes);
        b3.Store(outputs + 3 * Lanes);
    }
}
