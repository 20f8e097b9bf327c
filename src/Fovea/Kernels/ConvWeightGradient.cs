using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Fovea.Kernels;

/// <summary>
/// The weight gradient of a stride-1, ungrouped convolution, dW[o, tap] += Σ_pixels dy[o, p]·x[tap row, p],
/// without im2col: each tap's im2col row is a shifted window of the padded image (<see cref="WideConv"/>)
/// and dy is copied into the same wide layout with zeros in the discarded columns, so every term is a
/// dot product of two contiguous rows. Tiles of 4 output channels × 4 taps keep 16 vector accumulators
/// over a group of images and are summed across lanes once per group, in a fixed order.
/// </summary>
internal static unsafe class ConvWeightGradient
{
    private const int TileChannels = 4, TileTaps = 4;

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
        int paddedChannels = RoundUp(outChannels, TileChannels), paddedDepth = RoundUp(depth, TileTaps);
        int dyLength = paddedChannels * stride, imageLength = g.InChannels * g.InPixels, outLength = outChannels * g.OutPixels;
        int group = Math.Clamp(L1Floats / (TileChannels * stride), 1, count);

        float[] scratch = TensorPool.Rent(group * (wide.PaddedLength + dyLength));
        int[] offsets = TensorPool.RentInts(paddedDepth);
        try
        {
            wide.TapOffsets(offsets);
            // Taps past the last read tap 0 again; their sums are never stored.
            offsets.AsSpan(depth, paddedDepth - depth).Clear();
            var images = scratch.AsSpan(0, group * wide.PaddedLength);
            var gradients = scratch.AsSpan(group * wide.PaddedLength, group * dyLength);
            for (int first = 0; first < count; first += group)
            {
                int n = Math.Min(group, count - first);
                for (int i = 0; i < n; i++)
                {
                    wide.Pad(x.Slice((first + i) * imageLength, imageLength), images.Slice(i * wide.PaddedLength, wide.PaddedLength));
                    wide.Widen(dy.Slice((first + i) * outLength, outLength), gradients.Slice(i * dyLength, dyLength), outChannels, paddedChannels, stride);
                }
                fixed (float* pImages = images, pGradients = gradients, pdw = dw)
                fixed (int* pOffsets = offsets)
                {
                    var job = new Job(n, stride, pImages, wide.PaddedLength, pGradients, dyLength, pOffsets, pdw, outChannels, depth);
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

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    private readonly struct Job(int images, int length, float* x, int xImage, float* dy, int dyImage, int* offsets, float* dw, int outChannels, int depth)
    {
        public void Run<TVec, TOps>() where TVec : struct where TOps : struct, IVectorOps<TVec>
        {
            for (int o = 0; o < outChannels; o += TileChannels)
                for (int t = 0; t < depth; t += TileTaps)
                    Tile<TVec, TOps>(o, t);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Tile<TVec, TOps>(int o, int t) where TVec : struct where TOps : struct, IVectorOps<TVec>
        {
            int w = TOps.Width;
            TVec s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
            TVec s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
            for (int n = 0; n < images; n++)
            {
                float* d0 = dy + (long)n * dyImage + (long)o * length, d1 = d0 + length, d2 = d1 + length, d3 = d2 + length;
                float* image = x + (long)n * xImage;
                float* x0 = image + offsets[t], x1 = image + offsets[t + 1], x2 = image + offsets[t + 2], x3 = image + offsets[t + 3];
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
                }
            }
            Store<TVec, TOps>(o, t, s00, s01, s02, s03);
            Store<TVec, TOps>(o + 1, t, s10, s11, s12, s13);
            Store<TVec, TOps>(o + 2, t, s20, s21, s22, s23);
            Store<TVec, TOps>(o + 3, t, s30, s31, s32, s33);
        }

        /// <summary>Adds one output channel's four tap sums into dW, skipping the padding rows and taps.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Store<TVec, TOps>(int o, int t, TVec a, TVec b, TVec c, TVec d) where TVec : struct where TOps : struct, IVectorOps<TVec>
        {
            if (o >= outChannels) return;
            float* row = dw + (long)o * depth + t;
            int valid = Math.Min(TileTaps, depth - t);
            row[0] += TOps.Sum(a);
            if (valid > 1) row[1] += TOps.Sum(b);
            if (valid > 2) row[2] += TOps.Sum(c);
            if (valid > 3) row[3] += TOps.Sum(d);
        }
    }
}
