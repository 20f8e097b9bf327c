using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
        if (trans) Panels(a + (long)p0 * lda + i0, laneStride: 1, depthStride: lda, mc, kc, mr, dst);
        else Panels(a + (long)i0 * lda + p0, laneStride: lda, depthStride: 1, mc, kc, mr, dst);
    }

    /// <summary>
    /// Packs op(B)[p0..p0+kc, j0..j0+nc] into panels of <paramref name="nr"/> columns: panel q holds, for
    /// each k, the nr values of columns q·nr… (element (p, j) of op(B) is b[p·ldb + j], or b[j·ldb + p] when transposed).
    /// </summary>
    public static void PackB(float* b, int ldb, bool trans, int p0, int kc, int j0, int nc, int nr, float* dst)
    {
        if (trans) Panels(b + (long)j0 * ldb + p0, laneStride: ldb, depthStride: 1, nc, kc, nr, dst);
        else Panels(b + (long)p0 * ldb + j0, laneStride: 1, depthStride: ldb, nc, kc, nr, dst);
    }

    /// <summary>
    /// Packs <paramref name="lanes"/> × <paramref name="depth"/> elements (lane r, step p at
    /// src[r·laneStride + p·depthStride]) into panels of <paramref name="width"/> lanes, each step's lanes adjacent.
    /// Whichever stride is 1 is read contiguously: a gather of one element per cache line (rows of A,
    /// columns of a transposed B) made packing a sixth of a large product's time.
    /// </summary>
    private static void Panels(float* src, long laneStride, long depthStride, int lanes, int depth, int width, float* dst)
    {
        for (int q = 0; q < lanes; q += width, dst += (long)depth * width)
        {
            int used = Math.Min(width, lanes - q);
            float* first = src + q * laneStride;
            if (depthStride == 1)
            {
                int r = Avx.IsSupported && width % 8 == 0 ? used / 8 * 8 : 0;
                for (int r8 = 0; r8 < r; r8 += 8) Transpose8Lanes(first + r8 * laneStride, laneStride, depth, width, dst + r8);
                for (; r < used; r++)
                {
                    float* s = first + r * laneStride, d = dst + r;
                    for (int p = 0; p < depth; p++) d[p * width] = s[p];
                }
            }
            else
            {
                for (int p = 0; p < depth; p++)
                    new ReadOnlySpan<float>(first + p * depthStride, used).CopyTo(new Span<float>(dst + p * width, used));
            }
            if (used == width) continue;
            for (int p = 0; p < depth; p++) new Span<float>(dst + p * width + used, width - used).Clear();
        }
    }

    /// <summary>
    /// Eight lanes of a depth-contiguous source as 8×8 register transposes: the scalar copy wrote one
    /// element per panel row, which made packing a row-major A (or a Linear weight read as Bᵀ) cost a
    /// third of a 256³ product. Copies exactly what the scalar loop would, so results do not change.
    /// </summary>
    private static void Transpose8Lanes(float* src, long laneStride, int depth, int width, float* dst)
    {
        float* s0 = src, s1 = src + laneStride, s2 = src + 2 * laneStride, s3 = src + 3 * laneStride;
        float* s4 = src + 4 * laneStride, s5 = src + 5 * laneStride, s6 = src + 6 * laneStride, s7 = src + 7 * laneStride;
        int p = 0;
        for (; p + 8 <= depth; p += 8)
        {
            Vector256<float> r0 = Avx.LoadVector256(s0 + p), r1 = Avx.LoadVector256(s1 + p), r2 = Avx.LoadVector256(s2 + p), r3 = Avx.LoadVector256(s3 + p);
            Vector256<float> r4 = Avx.LoadVector256(s4 + p), r5 = Avx.LoadVector256(s5 + p), r6 = Avx.LoadVector256(s6 + p), r7 = Avx.LoadVector256(s7 + p);
            Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
            Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
            Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
            Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
            float* d = dst + (long)p * width;
            Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
            Avx.Store(d + width, Avx.Permute2x128(u1, u5, 0x20));
            Avx.Store(d + 2 * width, Avx.Permute2x128(u2, u6, 0x20));
            Avx.Store(d + 3 * width, Avx.Permute2x128(u3, u7, 0x20));
            Avx.Store(d + 4 * width, Avx.Permute2x128(u0, u4, 0x31));
            Avx.Store(d + 5 * width, Avx.Permute2x128(u1, u5, 0x31));
            Avx.Store(d + 6 * width, Avx.Permute2x128(u2, u6, 0x31));
            Avx.Store(d + 7 * width, Avx.Permute2x128(u3, u7, 0x31));
        }
        for (; p < depth; p++)
        {
            float* d = dst + (long)p * width;
            d[0] = s0[p]; d[1] = s1[p]; d[2] = s2[p]; d[3] = s3[p]; d[4] = s4[p]; d[5] = s5[p]; d[6] = s6[p]; d[7] = s7[p];
        }
    }
}
