using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// Depthwise convolution forward (channel multiplier 1) on maps with rows of at most 16 outputs (8 at stride 2), several
/// output rows to a vector: MobileNet's 16×16 to 4×4 stages. At stride 1 with rows as wide as the input's, the R = 16 / outW rows of a
/// vector read, for each tap, one run of input at the tap's offset (a masked load: lanes whose row or column falls in
/// the padding read nothing and hold zero). At stride 2 (input rows of up to 16), two output rows share a vector: each
/// kernel row loads the two input rows it reads, and each tap picks its columns from them with one two-source permute.
/// Eight planes go at once, so that eight independent sums cover the multiply-add latency. Sums start from the bias and
/// add taps in row-major order; each output is clamped to [low, high] as it is stored (a fused ReLU or ReLU6).
/// MobileNetV2-style at batch 32 on two threads, against 16 channels at a time through transposes
/// (<see cref="BlockedDepthwise"/>): 16×16 → 8×8 at stride 2 106 → 44 µs (ONNX Runtime 34), 8×8 at stride 1 70 → 31,
/// 8×8 → 4×4 41 → 22; against the row kernel, 16×16 at stride 1 (8 channels) 25 → 20 µs, 14×14 (16 channels) 60 → 33.
/// It also beats the small-plane kernel on 4×4 maps (19.4 → 10.5 µs; 2.5 → 0.8 at batch 1), not on 2×2 (4.8 against 19);
/// rows under 4 stay with the small-plane and channel-blocked kernels (2×2 → 1×1: 37 µs there, 47 here). AVX-512 only.
/// </summary>
internal static unsafe class PackedRowsDepthwise
{
    private const int Lanes = 16, Planes = 8;

    /// <summary>Whether <paramref name="g"/> runs here: depthwise, multiplier 1, output rows of 4 to 16, and stride 1 with rows as wide as the input's, or stride 2 onto rows of at most 8 from input rows of at most 16.</summary>
    public static bool Supports(ConvGeometry g) =>
        Avx512F.IsSupported && DirectConv.IsDepthwise(g) && g.OutChannels == g.InChannels && g.OutWidth is >= 4 and <= 16
        && (g.StrideHeight == 1 && g.StrideWidth == 1 && g.InWidth == g.OutWidth || g.StrideHeight == 2 && g.StrideWidth == 2 && g.InWidth <= Lanes && g.OutWidth <= 8);

    public static void Forward(ConvGeometry g, float[] x, float[] weight, float[]? bias, float[] y, float low, float high)
    {
        int taps = g.KernelHeight * g.KernelWidth, planes = g.Batch * g.OutChannels, chunks = (planes + Planes - 1) / Planes;
        Parallelism.For(chunks, (start, end) =>
        {
            var run = new Rows(g, low, high);
            fixed (float* xs = x, ws = weight, ys = y)
            {
                var inputs = stackalloc float*[Planes];
                var weights = stackalloc float*[Planes];
                var outputs = stackalloc float*[Planes];
                float* biases = stackalloc float[Planes];
                for (int chunk = start; chunk < end; chunk++)
                {
                    // Plane (image, channel) n·C + c; past the last plane the last one again (the same values written twice).
                    for (int i = 0; i < Planes; i++)
                    {
                        int plane = Math.Min(chunk * Planes + i, planes - 1), channel = plane % g.OutChannels;
                        inputs[i] = xs + (long)plane * g.InPixels;
                        outputs[i] = ys + (long)plane * g.OutPixels;
                        weights[i] = ws + (long)channel * taps;
                        biases[i] = bias is null ? 0f : bias[channel];
                    }
                    run.Eight(inputs, weights, biases, outputs);
                }
            }
        }, DirectConv.ItemsPerChunk((long)g.OutPixels * taps * Planes));
    }

    private readonly struct Rows(ConvGeometry g, float low, float high)
    {
        /// <summary>Eight planes: input i at <paramref name="x"/>[i], its weights at w[i], bias b[i], output at y[i].</summary>
        public void Eight(float** x, float** w, float* b, float** y)
        {
            if (g.StrideWidth == 1) StrideOne(x, w, b, y);
            else StrideTwo(x, w, b, y);
        }

        private static Vector512<float> InRange(Vector512<int> v, int low, int high) =>
            (Vector512.GreaterThanOrEqual(v, Vector512.Create(low)) & Vector512.LessThan(v, Vector512.Create(high))).AsSingle();

        /// <summary>Stride 1: lane j is output (r0 + j / outW, j % outW), and every tap reads input at one offset from r0·inW + j.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void StrideOne(float** x, float** w, float* bias, float** y)
        {
            int outW = g.OutWidth, rowsPer = Lanes / outW, used = rowsPer * outW;
            var lane = Vector512<int>.Indices;
            var row = lane / Vector512.Create(outW);
            var column = lane - row * Vector512.Create(outW);
            var usedLanes = Vector512.LessThan(lane, Vector512.Create(used));
            float* x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3], x4 = x[4], x5 = x[5], x6 = x[6], x7 = x[7];
            for (int r0 = 0; r0 < g.OutHeight; r0 += rowsPer)
            {
                var s0 = Vector512.Create(bias[0]); var s1 = Vector512.Create(bias[1]); var s2 = Vector512.Create(bias[2]); var s3 = Vector512.Create(bias[3]);
                var s4 = Vector512.Create(bias[4]); var s5 = Vector512.Create(bias[5]); var s6 = Vector512.Create(bias[6]); var s7 = Vector512.Create(bias[7]);
                for (int ki = 0; ki < g.KernelHeight; ki++)
                {
                    int shift = r0 + ki * g.DilationHeight - g.PadTop;
                    var rows = InRange(row, -shift, g.InHeight - shift).AsInt32() & usedLanes;
                    for (int kj = 0; kj < g.KernelWidth; kj++)
                    {
                        int offset = kj * g.DilationWidth - g.PadLeft, t = ki * g.KernelWidth + kj;
                        var mask = (rows & InRange(column, -offset, g.InWidth - offset).AsInt32()).AsSingle();
                        long at = (long)shift * g.InWidth + offset;
                        s0 = Avx512F.FusedMultiplyAdd(Avx512F.MaskLoad(x0 + at, mask, Vector512<float>.Zero), Vector512.Create(w[0][t]), s0);
                        s1 = Avx512F.FusedMultiplyAdd(Avx512F.MaskLoad(x1 + at, mask, Vector512<float>.Zero), Vector512.Create(w[1][t]), s1);
                        s2 = Avx512F.FusedMultiplyAdd(Avx512F.MaskLoad(x2 + at, mask, Vector512<float>.Zero), Vector512.Create(w[2][t]), s2);
                        s3 = Avx512F.FusedMultiplyAdd(Avx512F.MaskLoad(x3 + at, mask, Vector512<float>.Zero), Vector512.Create(w[3][t]), s3);
                        s4 = Avx512F.FusedMultiplyAdd(Avx512F.MaskLoad(x4 + at, mask, Vector512<float>.Zero), Vector512.Create(w[4][t]), s4);
                        s5 = Avx512F.FusedMultiplyAdd(Avx512F.MaskLoad(x5 + at, mask, Vector512<float>.Zero), Vector512.Create(w[5][t]), s5);
                        s6 = Avx512F.FusedMultiplyAdd(Avx512F.MaskLoad(x6 + at, mask, Vector512<float>.Zero), Vector512.Create(w[6][t]), s6);
                        s7 = Avx512F.FusedMultiplyAdd(Avx512F.MaskLoad(x7 + at, mask, Vector512<float>.Zero), Vector512.Create(w[7][t]), s7);
                    }
                }
                Store(s0, s1, s2, s3, s4, s5, s6, s7, y, r0 * outW, Math.Min(used, (g.OutHeight - r0) * outW));
            }
        }

        /// <summary>
        /// Stride 2: lanes [0, outW) are output row r0 and [outW, 2·outW) row r0 + 1; each kernel row loads the two input
        /// rows they read, and lane j of a tap takes column 2·(j % outW) + offset of the first (j &lt; outW) or the second.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void StrideTwo(float** x, float** w, float* bias, float** y)
        {
            int outW = g.OutWidth, used = 2 * outW;
            var lane = Vector512<int>.Indices;
            var second = Vector512.GreaterThanOrEqual(lane, Vector512.Create(outW));
            var column = lane - (second & Vector512.Create(outW));
            var usedLanes = Vector512.LessThan(lane, Vector512.Create(used));
            var rowMask = Vector512.LessThan(lane, Vector512.Create(g.InWidth)).AsSingle();
            float* x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3], x4 = x[4], x5 = x[5], x6 = x[6], x7 = x[7];
            for (int r0 = 0; r0 < g.OutHeight; r0 += 2)
            {
                var s0 = Vector512.Create(bias[0]); var s1 = Vector512.Create(bias[1]); var s2 = Vector512.Create(bias[2]); var s3 = Vector512.Create(bias[3]);
                var s4 = Vector512.Create(bias[4]); var s5 = Vector512.Create(bias[5]); var s6 = Vector512.Create(bias[6]); var s7 = Vector512.Create(bias[7]);
                for (int ki = 0; ki < g.KernelHeight; ki++)
                {
                    int top = 2 * r0 + ki * g.DilationHeight - g.PadTop, bottom = top + 2;
                    bool hasTop = top >= 0 && top < g.InHeight, hasBottom = r0 + 1 < g.OutHeight && bottom >= 0 && bottom < g.InHeight;
                    // The rows' lanes whose input row exists (the other row's lanes read zeros).
                    var rows = (second & Vector512.Create(hasBottom ? -1 : 0)) | (~second & Vector512.Create(hasTop ? -1 : 0));
                    if (!hasTop && !hasBottom) continue;
                    var a0 = Row(x0, top, hasTop, rowMask); var b0 = Row(x0, bottom, hasBottom, rowMask);
                    var a1 = Row(x1, top, hasTop, rowMask); var b1 = Row(x1, bottom, hasBottom, rowMask);
                    var a2 = Row(x2, top, hasTop, rowMask); var b2 = Row(x2, bottom, hasBottom, rowMask);
                    var a3 = Row(x3, top, hasTop, rowMask); var b3 = Row(x3, bottom, hasBottom, rowMask);
                    var a4 = Row(x4, top, hasTop, rowMask); var b4 = Row(x4, bottom, hasBottom, rowMask);
                    var a5 = Row(x5, top, hasTop, rowMask); var b5 = Row(x5, bottom, hasBottom, rowMask);
                    var a6 = Row(x6, top, hasTop, rowMask); var b6 = Row(x6, bottom, hasBottom, rowMask);
                    var a7 = Row(x7, top, hasTop, rowMask); var b7 = Row(x7, bottom, hasBottom, rowMask);
                    for (int kj = 0; kj < g.KernelWidth; kj++)
                    {
                        int offset = kj * g.DilationWidth - g.PadLeft, t = ki * g.KernelWidth + kj;
                        var source = 2 * column + Vector512.Create(offset);
                        var mask = (rows & usedLanes & InRange(source, 0, g.InWidth).AsInt32()).AsSingle();
                        var index = (source & Vector512.Create(Lanes - 1)) | (second & Vector512.Create(Lanes));
                        s0 = Avx512F.FusedMultiplyAdd(Pick(a0, b0, index, mask), Vector512.Create(w[0][t]), s0);
                        s1 = Avx512F.FusedMultiplyAdd(Pick(a1, b1, index, mask), Vector512.Create(w[1][t]), s1);
                        s2 = Avx512F.FusedMultiplyAdd(Pick(a2, b2, index, mask), Vector512.Create(w[2][t]), s2);
                        s3 = Avx512F.FusedMultiplyAdd(Pick(a3, b3, index, mask), Vector512.Create(w[3][t]), s3);
                        s4 = Avx512F.FusedMultiplyAdd(Pick(a4, b4, index, mask), Vector512.Create(w[4][t]), s4);
                        s5 = Avx512F.FusedMultiplyAdd(Pick(a5, b5, index, mask), Vector512.Create(w[5][t]), s5);
                        s6 = Avx512F.FusedMultiplyAdd(Pick(a6, b6, index, mask), Vector512.Create(w[6][t]), s6);
                        s7 = Avx512F.FusedMultiplyAdd(Pick(a7, b7, index, mask), Vector512.Create(w[7][t]), s7);
                    }
                }
                Store(s0, s1, s2, s3, s4, s5, s6, s7, y, r0 * outW, Math.Min(used, (g.OutHeight - r0) * outW));
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Vector512<float> Row(float* plane, int row, bool exists, Vector512<float> rowMask) =>
            exists ? Avx512F.MaskLoad(plane + (long)row * g.InWidth, rowMask, Vector512<float>.Zero) : Vector512<float>.Zero;

        /// <summary>Lane j: the first row's lane index[j] (index below 16) or the second's, zero where the mask is clear.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Pick(Vector512<float> first, Vector512<float> second, Vector512<int> index, Vector512<float> mask) =>
            Avx512F.PermuteVar16x32x2(first, index, second) & mask;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Store(Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3, Vector512<float> s4, Vector512<float> s5,
            Vector512<float> s6, Vector512<float> s7, float** y, int at, int count)
        {
            var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
            Avx512F.MaskStore(y[0] + at, mask, V512.Clamp(s0, low, high));
            Avx512F.MaskStore(y[1] + at, mask, V512.Clamp(s1, low, high));
            Avx512F.MaskStore(y[2] + at, mask, V512.Clamp(s2, low, high));
            Avx512F.MaskStore(y[3] + at, mask, V512.Clamp(s3, low, high));
            Avx512F.MaskStore(y[4] + at, mask, V512.Clamp(s4, low, high));
            Avx512F.MaskStore(y[5] + at, mask, V512.Clamp(s5, low, high));
            Avx512F.MaskStore(y[6] + at, mask, V512.Clamp(s6, low, high));
            Avx512F.MaskStore(y[7] + at, mask, V512.Clamp(s7, low, high));
        }
    }
}
