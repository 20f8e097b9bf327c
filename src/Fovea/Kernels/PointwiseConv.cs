using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// Inference of 1×1 convolutions (stride 1, no padding, one group) on maps of 16 pixels or more, as the product
/// y[o, p] = bias[o] + Σ_c w[o, c]·x[c, p] with both x and y read and written in place in NCHW: register tiles of 4
/// output channels × 64 pixels (8 × 32 on maps of up to 32 pixels), one weight broadcast per channel and pixel vectors
/// per input channel, then the clamp (a fused ReLU or ReLU6) as the tile is stored. The implicit GEMM pads, writes a wide result and narrows it per image, and the
/// channel-vectorised kernel transposes: with the few input channels of MobileNet's expansions (8 to 48) or SqueezeNet's
/// squeezes on 5×5 to 11×11 maps that bookkeeping was most of the time (20–80 GFLOP/s). AVX-512 only.
/// </summary>
internal static unsafe class PointwiseConv
{
    private const int Lanes = 16, TileRows = 4, TileVectors = 4;

    public static bool Supports(ConvGeometry g) =>
        Avx512F.IsSupported && g.Groups == 1 && g.KernelHeight == 1 && g.KernelWidth == 1 && g.StrideHeight == 1 && g.StrideWidth == 1
        && g.PadTop == 0 && g.PadBottom == 0 && g.PadLeft == 0 && g.PadRight == 0 && g.OutPixels >= Lanes
        && (long)g.InChannels * Math.Min(g.OutPixels, TileVectors * Lanes) <= MaxTileInputs;

    /// <summary>Input floats of one tile's pixels (all input channels) that stay in L1 while its rows of output are summed.</summary>
    private const int MaxTileInputs = 10_240;

    /// <summary>Maps up to this many pixels take tiles of 8 channels × 32 pixels: a 4 × 64 tile would compute its vectors twice over (5×5 maps).</summary>
    private const int NarrowMap = 2 * Lanes;

    /// <summary>y [N, O, P] = w [O, C] · x [N, C, P] (+ bias), each output clamped to [<paramref name="low"/>, <paramref name="high"/>] as it is stored.</summary>
    public static void Forward(ConvGeometry g, float[] x, float[] weight, float[]? bias, float[] y, float low, float high)
    {
        bool narrow = g.OutPixels <= NarrowMap;
        int tileRows = narrow ? 2 * TileRows : TileRows, rowTiles = (g.OutChannels + tileRows - 1) / tileRows;
        Parallelism.For(g.Batch * rowTiles, (start, end) =>
        {
            fixed (float* xs = x, ws = weight, ys = y, bs = bias)
            {
                for (int item = start; item < end; item++)
                {
                    int n = item / rowTiles, o = item % rowTiles * tileRows;
                    float* image = xs + (long)n * g.InChannels * g.OutPixels, result = ys + (long)n * g.OutChannels * g.OutPixels;
                    if (narrow) NarrowTile(g, image, ws, bs, result, o, low, high);
                    else Tile(g, image, ws, bs, result, o, low, high);
                }
            }
        }, DirectConv.ItemsPerChunk((long)tileRows * g.InChannels * g.OutPixels, g.Batch * rowTiles));
    }

    /// <summary>Output channels o … o + 3 of one image (the last tile repeats its last channel: the same values stored twice).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(ConvGeometry g, float* x, float* w, float* bias, float* y, int o, float low, float high)
    {
        int channels = g.InChannels, pixels = g.OutPixels, last = g.OutChannels - 1;
        int o0 = o, o1 = Math.Min(o + 1, last), o2 = Math.Min(o + 2, last), o3 = Math.Min(o + 3, last);
        float* w0 = w + (long)o0 * channels, w1 = w + (long)o1 * channels, w2 = w + (long)o2 * channels, w3 = w + (long)o3 * channels;
        var b0 = Vector512.Create(bias == null ? 0f : bias[o0]);
        var b1 = Vector512.Create(bias == null ? 0f : bias[o1]);
        var b2 = Vector512.Create(bias == null ? 0f : bias[o2]);
        var b3 = Vector512.Create(bias == null ? 0f : bias[o3]);
        for (int p = 0; p < pixels; p += TileVectors * Lanes)
        {
            // Whole vectors, the last of a row ending at the row's end (recomputing a few outputs) rather than masked.
            int p0 = Math.Min(p, pixels - Lanes), p1 = Math.Min(p + Lanes, pixels - Lanes);
            int p2 = Math.Min(p + 2 * Lanes, pixels - Lanes), p3 = Math.Min(p + 3 * Lanes, pixels - Lanes);
            Vector512<float> a00 = b0, a01 = b0, a02 = b0, a03 = b0, a10 = b1, a11 = b1, a12 = b1, a13 = b1;
            Vector512<float> a20 = b2, a21 = b2, a22 = b2, a23 = b2, a30 = b3, a31 = b3, a32 = b3, a33 = b3;
            float* row = x;
            for (int c = 0; c < channels; c++, row += pixels)
            {
                var x0 = Vector512.Load(row + p0);
                var x1 = Vector512.Load(row + p1);
                var x2 = Vector512.Load(row + p2);
                var x3 = Vector512.Load(row + p3);
                var v = Vector512.Create(w0[c]);
                a00 = Vector512.FusedMultiplyAdd(x0, v, a00); a01 = Vector512.FusedMultiplyAdd(x1, v, a01);
                a02 = Vector512.FusedMultiplyAdd(x2, v, a02); a03 = Vector512.FusedMultiplyAdd(x3, v, a03);
                v = Vector512.Create(w1[c]);
                a10 = Vector512.FusedMultiplyAdd(x0, v, a10); a11 = Vector512.FusedMultiplyAdd(x1, v, a11);
                a12 = Vector512.FusedMultiplyAdd(x2, v, a12); a13 = Vector512.FusedMultiplyAdd(x3, v, a13);
                v = Vector512.Create(w2[c]);
                a20 = Vector512.FusedMultiplyAdd(x0, v, a20); a21 = Vector512.FusedMultiplyAdd(x1, v, a21);
                a22 = Vector512.FusedMultiplyAdd(x2, v, a22); a23 = Vector512.FusedMultiplyAdd(x3, v, a23);
                v = Vector512.Create(w3[c]);
                a30 = Vector512.FusedMultiplyAdd(x0, v, a30); a31 = Vector512.FusedMultiplyAdd(x1, v, a31);
                a32 = Vector512.FusedMultiplyAdd(x2, v, a32); a33 = Vector512.FusedMultiplyAdd(x3, v, a33);
            }
            Store(y + (long)o0 * pixels, p0, p1, p2, p3, a00, a01, a02, a03, low, high);
            Store(y + (long)o1 * pixels, p0, p1, p2, p3, a10, a11, a12, a13, low, high);
            Store(y + (long)o2 * pixels, p0, p1, p2, p3, a20, a21, a22, a23, low, high);
            Store(y + (long)o3 * pixels, p0, p1, p2, p3, a30, a31, a32, a33, low, high);
        }
    }

    /// <summary>
    /// Output channels o … o + 7 of an image of at most 32 pixels, two vectors (the second ending at the map's end). A
    /// method of its own, not a generic tile shape: the JIT spilled the accumulators of a shared version.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NarrowTile(ConvGeometry g, float* x, float* w, float* bias, float* y, int o, float low, float high)
    {
        int channels = g.InChannels, pixels = g.OutPixels, last = g.OutChannels - 1, p1 = pixels - Lanes;
        int o0 = o, o1 = Math.Min(o + 1, last), o2 = Math.Min(o + 2, last), o3 = Math.Min(o + 3, last);
        int o4 = Math.Min(o + 4, last), o5 = Math.Min(o + 5, last), o6 = Math.Min(o + 6, last), o7 = Math.Min(o + 7, last);
        var a00 = Vector512.Create(bias == null ? 0f : bias[o0]); var a01 = a00;
        var a10 = Vector512.Create(bias == null ? 0f : bias[o1]); var a11 = a10;
        var a20 = Vector512.Create(bias == null ? 0f : bias[o2]); var a21 = a20;
        var a30 = Vector512.Create(bias == null ? 0f : bias[o3]); var a31 = a30;
        var a40 = Vector512.Create(bias == null ? 0f : bias[o4]); var a41 = a40;
        var a50 = Vector512.Create(bias == null ? 0f : bias[o5]); var a51 = a50;
        var a60 = Vector512.Create(bias == null ? 0f : bias[o6]); var a61 = a60;
        var a70 = Vector512.Create(bias == null ? 0f : bias[o7]); var a71 = a70;
        float* row = x;
        for (int c = 0; c < channels; c++, row += pixels)
        {
            var x0 = Vector512.Load(row);
            var x1 = Vector512.Load(row + p1);
            var v = Vector512.Create(w[(long)o0 * channels + c]);
            a00 = Vector512.FusedMultiplyAdd(x0, v, a00); a01 = Vector512.FusedMultiplyAdd(x1, v, a01);
            v = Vector512.Create(w[(long)o1 * channels + c]);
            a10 = Vector512.FusedMultiplyAdd(x0, v, a10); a11 = Vector512.FusedMultiplyAdd(x1, v, a11);
            v = Vector512.Create(w[(long)o2 * channels + c]);
            a20 = Vector512.FusedMultiplyAdd(x0, v, a20); a21 = Vector512.FusedMultiplyAdd(x1, v, a21);
            v = Vector512.Create(w[(long)o3 * channels + c]);
            a30 = Vector512.FusedMultiplyAdd(x0, v, a30); a31 = Vector512.FusedMultiplyAdd(x1, v, a31);
            v = Vector512.Create(w[(long)o4 * channels + c]);
            a40 = Vector512.FusedMultiplyAdd(x0, v, a40); a41 = Vector512.FusedMultiplyAdd(x1, v, a41);
            v = Vector512.Create(w[(long)o5 * channels + c]);
            a50 = Vector512.FusedMultiplyAdd(x0, v, a50); a51 = Vector512.FusedMultiplyAdd(x1, v, a51);
            v = Vector512.Create(w[(long)o6 * channels + c]);
            a60 = Vector512.FusedMultiplyAdd(x0, v, a60); a61 = Vector512.FusedMultiplyAdd(x1, v, a61);
            v = Vector512.Create(w[(long)o7 * channels + c]);
            a70 = Vector512.FusedMultiplyAdd(x0, v, a70); a71 = Vector512.FusedMultiplyAdd(x1, v, a71);
        }
        StorePair(y + (long)o0 * pixels, p1, a00, a01, low, high);
        StorePair(y + (long)o1 * pixels, p1, a10, a11, low, high);
        StorePair(y + (long)o2 * pixels, p1, a20, a21, low, high);
        StorePair(y + (long)o3 * pixels, p1, a30, a31, low, high);
        StorePair(y + (long)o4 * pixels, p1, a40, a41, low, high);
        StorePair(y + (long)o5 * pixels, p1, a50, a51, low, high);
        StorePair(y + (long)o6 * pixels, p1, a60, a61, low, high);
        StorePair(y + (long)o7 * pixels, p1, a70, a71, low, high);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePair(float* row, int p1, Vector512<float> a0, Vector512<float> a1, float low, float high)
    {
        V512.Clamp(a0, low, high).Store(row);
        V512.Clamp(a1, low, high).Store(row + p1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* row, int p0, int p1, int p2, int p3,
        Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3, float low, float high)
    {
        V512.Clamp(a0, low, high).Store(row + p0);
        V512.Clamp(a1, low, high).Store(row + p1);
        V512.Clamp(a2, low, high).Store(row + p2);
        V512.Clamp(a3, low, high).Store(row + p3);
    }
}
