using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// The weight gradient of a stride-1, ungrouped convolution, dW[o, tap] += Σ_pixels dy[o, p]·x[tap row, p],
/// without im2col: each tap's im2col row is a shifted window of the padded image (<see cref="WideConv"/>)
/// and dy is copied into the same wide layout with zeros in the discarded columns, so every term is a
/// dot product of two contiguous rows. Tiles of 4 output channels × 6 taps (4 below AVX-512) keep 24 (16)
/// vector accumulators over a group of images and are summed across lanes once per group, in a fixed order.
/// </summary>
internal static unsafe class ConvWeightGradient
{
    private const int TileChannels = 4;

    /// <summary>Taps per tile: six with AVX-512's 32 registers (24 accumulators), four otherwise (16).</summary>
    private static int TileTaps(GemmKernel kernel) => kernel == GemmKernel.Vector512 ? 6 : 4;

    /// <summary>Floats of dy rows a group may hold so that a tile's 4 rows of every image in the group stay in L1.</summary>
    private const int L1Floats = 6 * 1024;

    /// <summary>
    /// <paramref name="dw"/> [O, C·kH·kW] += the weight gradient of <paramref name="count"/> images
    /// <paramref name="x"/> [count, C, H, W] with output gradients <paramref name="dy"/> [count, O, outH, outW].
    /// </summary>
    public static void Accumulate(ConvGeometry g, GemmKernel kernel, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int count, Span<float> dw)
    {
        // Rows of dy are padded to 16 floats, a whole number of vectors for every kernel.
        var wide = new WideConv(g.InChannels, g.InHeight, g.InWidth, (g.KernelHeight, g.KernelWidth), (g.DilationHeight, g.DilationWidth),
            g.PadTop, g.PadBottom, g.PadLeft, g.PadRight, tileCols: 16);
        int outChannels = g.OutChannels, depth = wide.Depth, stride = wide.WideStride;
        int paddedChannels = RoundUp(outChannels, TileChannels), paddedDepth = RoundUp(depth, TileTaps(kernel));
        int dyLength = paddedChannels * stride, imageLength = g.InChannels * g.InPixels, outLength = outChannels * g.OutPixels;
        int group = Math.Clamp(L1Floats / (TileChannels * stride), 1, count);

        // Images padded to whole cache lines, so every row of dy starts on one: those loads never split a line.
        int xLength = RoundUp(wide.PaddedLength, CacheLineFloats);
        float[] scratch = TensorPool.Rent(group * (xLength + dyLength) + CacheLineFloats);
        int[] offsets = TensorPool.RentInts(paddedDepth);
        try
        {
            wide.TapOffsets(offsets);
            // Taps past the last read tap 0 again; their sums are never stored.
            offsets.AsSpan(depth, paddedDepth - depth).Clear();
            fixed (float* raw = scratch, pdw = dw)
            fixed (int* pOffsets = offsets)
            {
                float* images = AlignToCacheLine(raw), gradients = images + (long)group * xLength;
                for (int first = 0; first < count; first += group)
                {
                    int n = Math.Min(group, count - first);
                    for (int i = 0; i < n; i++)
                    {
                        wide.Pad(x.Slice((first + i) * imageLength, imageLength), new Span<float>(images + (long)i * xLength, xLength));
                        wide.Widen(dy.Slice((first + i) * outLength, outLength), new Span<float>(gradients + (long)i * dyLength, dyLength), outChannels, paddedChannels, stride);
                    }
                    var job = new Job(n, stride, images, xLength, gradients, dyLength, pOffsets, pdw, outChannels, depth);
                    switch (kernel)
                    {
                        case GemmKernel.Vector512: job.Run<Vector512<float>, V512>(); break;
                        case GemmKernel.Vector256: job.Run<Vector256<float>, V256>(); break;
                        default: job.Run<Vector128<float>, V128>(); break;
                    }
                }
            }
        }
        finally
        {
            TensorPool.Return(scratch);
            TensorPool.ReturnInts(offsets);
        }
    }

    private const int CacheLineFloats = 16;

    /// <summary>The first 64-byte boundary at or after <paramref name="p"/> (pinned memory only: a moved array loses it).</summary>
    private static float* AlignToCacheLine(float* p) => (float*)(((nint)p + 63) & ~(nint)63);

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    private readonly struct Job(int images, int length, float* x, int xImage, float* dy, int dyImage, int* offsets, float* dw, int outChannels, int depth)
    {
        public void Run<TVec, TOps>() where TVec : struct where TOps : struct, IVectorOps<TVec>
        {
            for (int o = 0; o < outChannels; o += TileChannels)
                for (int t = 0; t < depth; t += TOps.Width == 16 ? 6 : 4)
                    Tile<TVec, TOps>(o, t);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Tile<TVec, TOps>(int o, int t) where TVec : struct where TOps : struct, IVectorOps<TVec>
        {
            int w = TOps.Width;
            bool six = w == 16;  // a constant per specialisation: the last two taps compile away elsewhere
            TVec s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
            TVec s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
            TVec s04 = default, s05 = default, s14 = default, s15 = default, s24 = default, s25 = default, s34 = default, s35 = default;
            for (int n = 0; n < images; n++)
            {
                float* d0 = dy + (long)n * dyImage + (long)o * length, d1 = d0 + length, d2 = d1 + length, d3 = d2 + length;
                float* image = x + (long)n * xImage;
                float* x0 = image + offsets[t], x1 = image + offsets[t + 1], x2 = image + offsets[t + 2], x3 = image + offsets[t + 3];
                float* x4 = six ? image + offsets[t + 4] : null, x5 = six ? image + offsets[t + 5] : null;
                for (int p = 0; p < length; p += w)
                {
                    TVec g0 = TOps.Load(d0 + p), g1 = TOps.Load(d1 + p), g2 = TOps.Load(d2 + p), g3 = TOps.Load(d3 + p);
                    TVec v = TOps.Load(x0 + p);
                    s00 = TOps.MultiplyAdd(g0, v, s00); s10 = TOps.MultiplyAdd(g1, v, s10); s20 = TOps.MultiplyAdd(g2, v, s20); s30 = TOps.MultiplyAdd(g3, v, s30);
                    v = TOps.Load(x1 + p);
                    s01 = TOps.MultiplyAdd(g0, v, s01); s11 = TOps.MultiplyAdd(g1, v, s11); s21 = TOps.MultiplyAdd(g2, v, s21); s31 = TOps.MultiplyAdd(g3, v, s31);
                    v = TOps.Load(x2 + p);
                    s02 = TOps.MultiplyAdd(g0, v, s02); s12 = TOps.MultiplyAdd(g1, v, s12); s22 = TOps.MultiplyAdd(g2, v, s22); s32 = TOps.MultiplyAdd(g3, v, s32);
                    v = TOps.Load(x3 + p);
                    s03 = TOps.MultiplyAdd(g0, v, s03); s13 = TOps.MultiplyAdd(g1, v, s13); s23 = TOps.MultiplyAdd(g2, v, s23); s33 = TOps.MultiplyAdd(g3, v, s33);
                    if (six)
                    {
                        v = TOps.Load(x4 + p);
                        s04 = TOps.MultiplyAdd(g0, v, s04); s14 = TOps.MultiplyAdd(g1, v, s14); s24 = TOps.MultiplyAdd(g2, v, s24); s34 = TOps.MultiplyAdd(g3, v, s34);
                        v = TOps.Load(x5 + p);
                        s05 = TOps.MultiplyAdd(g0, v, s05); s15 = TOps.MultiplyAdd(g1, v, s15); s25 = TOps.MultiplyAdd(g2, v, s25); s35 = TOps.MultiplyAdd(g3, v, s35);
                    }
                }
            }
            if (typeof(TVec) == typeof(Vector512<float>) && Avx512F.IsSupported)
            {
                var zero = Vector512<float>.Zero;
                StoreSixteen(o, t, 4, Sums(As(s00), As(s01), As(s02), As(s03), As(s10), As(s11), As(s12), As(s13),
                    As(s20), As(s21), As(s22), As(s23), As(s30), As(s31), As(s32), As(s33)));
                StoreSixteen(o, t + 4, 2, Sums(As(s04), As(s05), zero, zero, As(s14), As(s15), zero, zero,
                    As(s24), As(s25), zero, zero, As(s34), As(s35), zero, zero));
                return;
            }
            Store<TVec, TOps>(o, t, s00, s01, s02, s03);
            Store<TVec, TOps>(o + 1, t, s10, s11, s12, s13);
            Store<TVec, TOps>(o + 2, t, s20, s21, s22, s23);
            Store<TVec, TOps>(o + 3, t, s30, s31, s32, s33);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> As<TVec>(TVec v) where TVec : struct => Unsafe.As<TVec, Vector512<float>>(ref v);

        /// <summary>
        /// The lane sums of 16 vectors v[4o + k] at once, by a transposing tree of shuffles and adds (about 45
        /// instructions instead of 16 separate horizontal sums of ~25): lane 4k + o of the result is Σ v[4o + k].
        /// </summary>
        private static Vector512<float> Sums(Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3,
            Vector512<float> v4, Vector512<float> v5, Vector512<float> v6, Vector512<float> v7,
            Vector512<float> v8, Vector512<float> v9, Vector512<float> v10, Vector512<float> v11,
            Vector512<float> v12, Vector512<float> v13, Vector512<float> v14, Vector512<float> v15)
        {
            var q0 = Quarters(Halves(v0, v1), Halves(v2, v3));
            var q1 = Quarters(Halves(v4, v5), Halves(v6, v7));
            var q2 = Quarters(Halves(v8, v9), Halves(v10, v11));
            var q3 = Quarters(Halves(v12, v13), Halves(v14, v15));
            return Singles(Pairs(q0, q1), Pairs(q2, q3));

            // Each step halves the lanes per source and doubles the sources per vector.
            static Vector512<float> Halves(Vector512<float> a, Vector512<float> b) => Avx512F.Shuffle4x128(a, b, 0x44) + Avx512F.Shuffle4x128(a, b, 0xEE);
            static Vector512<float> Quarters(Vector512<float> a, Vector512<float> b) => Avx512F.Shuffle4x128(a, b, 0x88) + Avx512F.Shuffle4x128(a, b, 0xDD);
            static Vector512<float> Pairs(Vector512<float> a, Vector512<float> b) => Avx512F.Shuffle(a, b, 0x44) + Avx512F.Shuffle(a, b, 0xEE);
            static Vector512<float> Singles(Vector512<float> a, Vector512<float> b) => Avx512F.Shuffle(a, b, 0x88) + Avx512F.Shuffle(a, b, 0xDD);
        }

        /// <summary>Adds the sums of <see cref="Sums"/> for <paramref name="tileTaps"/> taps from t into dW, skipping the padding rows and taps.</summary>
        private void StoreSixteen(int o, int t, int tileTaps, Vector512<float> sums)
        {
            int rows = Math.Min(TileChannels, outChannels - o), taps = Math.Min(tileTaps, depth - t);
            for (int r = 0; r < rows; r++)
            {
                float* row = dw + (long)(o + r) * depth + t;
                for (int k = 0; k < taps; k++) row[k] += sums.GetElement(4 * k + r);
            }
        }

        /// <summary>Adds one output channel's four tap sums into dW, skipping the padding rows and taps.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Store<TVec, TOps>(int o, int t, TVec a, TVec b, TVec c, TVec d) where TVec : struct where TOps : struct, IVectorOps<TVec>
        {
            if (o >= outChannels) return;
            float* row = dw + (long)o * depth + t;
            int valid = Math.Min(4, depth - t);
            row[0] += TOps.Sum(a);
            if (valid > 1) row[1] += TOps.Sum(b);
            if (valid > 2) row[2] += TOps.Sum(c);
            if (valid > 3) row[3] += TOps.Sum(d);
        }
    }
}
