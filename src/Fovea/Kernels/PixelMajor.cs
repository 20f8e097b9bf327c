using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// Up to 16 NCHW planes to and from pixel-major order ([pixels, 16]: each pixel of all of them one vector), for kernels
/// that vectorise across channels or planes on maps whose rows are too short to vectorise along (as ONNX Runtime's
/// NCHWc layout). 16 × 16 blocks are transposed in registers (.NET has no AVX-512 gather; scalar moves were most of a
/// small-plane max pool's time). AVX-512 only.
/// </summary>
internal static unsafe class PixelMajor
{
    private const int Lanes = 16;

    /// <summary>
    /// Pixel p of planes [0, <paramref name="planes"/>) (each <paramref name="planeStride"/> floats after the last, from
    /// <paramref name="source"/>) → the vector at <paramref name="target"/> + 16·p, or at target + <paramref name="offsets"/>[p]
    /// where offsets are given (negative: the pixel is not wanted). Lanes past the planes hold zeros.
    /// </summary>
    [SkipLocalsInit]
    public static void FromPlanes(float* source, long planeStride, int planes, int pixels, float* target, int* offsets = null)
    {
        var block = stackalloc Vector512<float>[Lanes];
        var lane = Vector512<int>.Indices;
        for (int p0 = 0; p0 < pixels; p0 += Lanes)
        {
            int count = Math.Min(Lanes, pixels - p0);
            var mask = Vector512.LessThan(lane, Vector512.Create(count)).AsSingle();
            for (int plane = 0; plane < Lanes; plane++)
                block[plane] = plane >= planes ? Vector512<float>.Zero
                    : count == Lanes ? Vector512.Load(source + plane * planeStride + p0)
                    : Avx512F.MaskLoad(source + plane * planeStride + p0, mask, Vector512<float>.Zero);
            Transpose(block);
            for (int m = 0; m < count; m++)
            {
                long at = offsets is null ? (long)(p0 + m) * Lanes : offsets[p0 + m];
                if (at >= 0) Vector512.Store(block[m], target + at);
            }
        }
    }

    /// <summary>The inverse: the vectors of pixels [0, <paramref name="pixels"/>) at <paramref name="source"/> → lanes [0, <paramref name="planes"/>) of them to their planes.</summary>
    [SkipLocalsInit]
    public static void ToPlanes(float* source, int pixels, float* target, long planeStride, int planes)
    {
        var block = stackalloc Vector512<float>[Lanes];
        var lane = Vector512<int>.Indices;
        for (int p0 = 0; p0 < pixels; p0 += Lanes)
        {
            int count = Math.Min(Lanes, pixels - p0);
            for (int m = 0; m < Lanes; m++) block[m] = m < count ? Vector512.Load(source + (long)(p0 + m) * Lanes) : Vector512<float>.Zero;
            Transpose(block);
            var mask = Vector512.LessThan(lane, Vector512.Create(count)).AsSingle();
            for (int plane = 0; plane < planes; plane++) Avx512F.MaskStore(target + plane * planeStride + p0, mask, block[plane]);
        }
    }

    /// <summary>
    /// Rows r[0..15] → columns, in place: pairs within 128-bit lanes, then quads, then 128-bit blocks twice, all in
    /// registers (through stack arrays, each step a store and a reload, a block took about 300 cycles).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose(Vector512<float>* r)
    {
        // t: pairs of rows interleaved within each 128-bit lane.
        var t0 = Avx512F.UnpackLow(r[0], r[1]); var t1 = Avx512F.UnpackHigh(r[0], r[1]);
        var t2 = Avx512F.UnpackLow(r[2], r[3]); var t3 = Avx512F.UnpackHigh(r[2], r[3]);
        var t4 = Avx512F.UnpackLow(r[4], r[5]); var t5 = Avx512F.UnpackHigh(r[4], r[5]);
        var t6 = Avx512F.UnpackLow(r[6], r[7]); var t7 = Avx512F.UnpackHigh(r[6], r[7]);
        var t8 = Avx512F.UnpackLow(r[8], r[9]); var t9 = Avx512F.UnpackHigh(r[8], r[9]);
        var t10 = Avx512F.UnpackLow(r[10], r[11]); var t11 = Avx512F.UnpackHigh(r[10], r[11]);
        var t12 = Avx512F.UnpackLow(r[12], r[13]); var t13 = Avx512F.UnpackHigh(r[12], r[13]);
        var t14 = Avx512F.UnpackLow(r[14], r[15]); var t15 = Avx512F.UnpackHigh(r[14], r[15]);
        // u[4k + m]: rows 4k … 4k + 3 at columns m, m + 4, m + 8, m + 12 (one per 128-bit block).
        var u0 = Avx512F.Shuffle(t0, t2, 0x44); var u1 = Avx512F.Shuffle(t0, t2, 0xEE);
        var u2 = Avx512F.Shuffle(t1, t3, 0x44); var u3 = Avx512F.Shuffle(t1, t3, 0xEE);
        var u4 = Avx512F.Shuffle(t4, t6, 0x44); var u5 = Avx512F.Shuffle(t4, t6, 0xEE);
        var u6 = Avx512F.Shuffle(t5, t7, 0x44); var u7 = Avx512F.Shuffle(t5, t7, 0xEE);
        var u8 = Avx512F.Shuffle(t8, t10, 0x44); var u9 = Avx512F.Shuffle(t8, t10, 0xEE);
        var u10 = Avx512F.Shuffle(t9, t11, 0x44); var u11 = Avx512F.Shuffle(t9, t11, 0xEE);
        var u12 = Avx512F.Shuffle(t12, t14, 0x44); var u13 = Avx512F.Shuffle(t12, t14, 0xEE);
        var u14 = Avx512F.Shuffle(t13, t15, 0x44); var u15 = Avx512F.Shuffle(t13, t15, 0xEE);
        // Rows 0–7 and 8–15 at columns m and m + 8 (0x88), m + 4 and m + 12 (0xDD).
        var v0 = Avx512F.Shuffle4x128(u0, u4, 0x88); var v4 = Avx512F.Shuffle4x128(u0, u4, 0xDD);
        var v1 = Avx512F.Shuffle4x128(u1, u5, 0x88); var v5 = Avx512F.Shuffle4x128(u1, u5, 0xDD);
        var v2 = Avx512F.Shuffle4x128(u2, u6, 0x88); var v6 = Avx512F.Shuffle4x128(u2, u6, 0xDD);
        var v3 = Avx512F.Shuffle4x128(u3, u7, 0x88); var v7 = Avx512F.Shuffle4x128(u3, u7, 0xDD);
        var v8 = Avx512F.Shuffle4x128(u8, u12, 0x88); var v12 = Avx512F.Shuffle4x128(u8, u12, 0xDD);
        var v9 = Avx512F.Shuffle4x128(u9, u13, 0x88); var v13 = Avx512F.Shuffle4x128(u9, u13, 0xDD);
        var v10 = Avx512F.Shuffle4x128(u10, u14, 0x88); var v14 = Avx512F.Shuffle4x128(u10, u14, 0xDD);
        var v11 = Avx512F.Shuffle4x128(u11, u15, 0x88); var v15 = Avx512F.Shuffle4x128(u11, u15, 0xDD);
        r[0] = Avx512F.Shuffle4x128(v0, v8, 0x88); r[8] = Avx512F.Shuffle4x128(v0, v8, 0xDD);
        r[1] = Avx512F.Shuffle4x128(v1, v9, 0x88); r[9] = Avx512F.Shuffle4x128(v1, v9, 0xDD);
        r[2] = Avx512F.Shuffle4x128(v2, v10, 0x88); r[10] = Avx512F.Shuffle4x128(v2, v10, 0xDD);
        r[3] = Avx512F.Shuffle4x128(v3, v11, 0x88); r[11] = Avx512F.Shuffle4x128(v3, v11, 0xDD);
        r[4] = Avx512F.Shuffle4x128(v4, v12, 0x88); r[12] = Avx512F.Shuffle4x128(v4, v12, 0xDD);
        r[5] = Avx512F.Shuffle4x128(v5, v13, 0x88); r[13] = Avx512F.Shuffle4x128(v5, v13, 0xDD);
        r[6] = Avx512F.Shuffle4x128(v6, v14, 0x88); r[14] = Avx512F.Shuffle4x128(v6, v14, 0xDD);
        r[7] = Avx512F.Shuffle4x128(v7, v15, 0x88); r[15] = Avx512F.Shuffle4x128(v7, v15, 0xDD);
    }
}
