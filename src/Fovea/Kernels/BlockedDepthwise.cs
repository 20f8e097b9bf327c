using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// Depthwise convolution forward (channel multiplier 1) on maps with rows of at most 16 outputs, 16 channels at a time:
/// an image's block of 16 planes is transposed into a zero-padded pixel-major buffer (<see cref="PixelMajor"/>: one
/// vector per padded pixel, as ONNX Runtime's NCHWc layout), each output pixel is its taps' multiply-adds of whole
/// vectors with the block's 16 weights of the tap, 8 pixels at a time, and the outputs are transposed back. Along rows
/// of 8 or fewer the row kernels ran half-empty vectors and spent their time per plane: MobileNetV2-style at batch 32,
/// 16×16 → 8×8 at stride 2 took 148 µs (ONNX Runtime 34), 8×8 at stride 1 77 µs. Sums start from the bias and add the
/// taps in row-major order (padding taps add zero products, as an im2col product does); each output is clamped to
/// [low, high] as it is stored (a fused ReLU or ReLU6). Any kernel, stride, padding and dilation. AVX-512 only.
/// </summary>
internal static unsafe class BlockedDepthwise
{
    private const int Lanes = 16, PixelsPerStep = 8;

    /// <summary>
    /// Whether <paramref name="g"/> runs here: depthwise with multiplier 1 and output rows of 4 to 8 that
    /// <see cref="PackedRowsDepthwise"/> does not take (unpadded or strided other than by 1 or 2). The transposes cost less
    /// than the row kernels' half-empty vectors there (MobileNetV2-style's 16×16 → 8×8 at stride 2, batch 32, two threads:
    /// 165 → 112 µs), not on narrower rows (4×4 → 2×2: 21 → 46 µs).
    /// </summary>
    public static bool Supports(ConvGeometry g) =>
        Avx512F.IsSupported && DirectConv.IsDepthwise(g) && g.OutChannels == g.InChannels && g.OutWidth is >= 4 and <= 8;

    public static void Forward(ConvGeometry g, float[] x, float[] weight, float[]? bias, float[] y, float low, float high)
    {
        int blocks = (g.InChannels + Lanes - 1) / Lanes, taps = g.KernelHeight * g.KernelWidth;
        // The padded rows and columns the windows read: input pixel p goes to vector where[p] (−1: no window reads it).
        int rows = g.RowsRead, rowLength = g.ColumnsRead, padded = rows * rowLength;
        int[] layout = TensorPool.RentInts(g.InPixels + g.OutPixels + taps);
        var where = layout.AsSpan(0, g.InPixels);
        for (int p = 0; p < g.InPixels; p++)
        {
            int r = p / g.InWidth + g.PadTop, c = p % g.InWidth + g.PadLeft;
            where[p] = r < rows && c < rowLength ? (r * rowLength + c) * Lanes : -1;
        }
        // Each output pixel's window origin, and each tap's offset from it, in floats of the padded buffer.
        for (int q = 0; q < g.OutPixels; q++)
            layout[g.InPixels + q] = (q / g.OutWidth * g.StrideHeight * rowLength + q % g.OutWidth * g.StrideWidth) * Lanes;
        for (int t = 0; t < taps; t++)
            layout[g.InPixels + g.OutPixels + t] = (t / g.KernelWidth * g.DilationHeight * rowLength + t % g.KernelWidth * g.DilationWidth) * Lanes;
        try
        {
            Parallelism.For(g.Batch * blocks, (start, end) =>
            {
                float[] scratch = TensorPool.Rent((padded + g.OutPixels + taps + 1) * Lanes);
                fixed (float* xs = x, ws = weight, ys = y, buffer = scratch)
                fixed (int* offsets = layout)
                {
                    float* input = buffer, outputs = input + padded * Lanes, w = outputs + g.OutPixels * Lanes, b = w + taps * Lanes;
                    for (int item = start; item < end; item++)
                    {
                        int n = item / blocks, c0 = item % blocks * Lanes, lanes = Math.Min(Lanes, g.InChannels - c0);
                        for (int l = 0; l < Lanes; l++)
                        {
                            for (int t = 0; t < taps; t++) w[t * Lanes + l] = l < lanes ? ws[(c0 + l) * taps + t] : 0f;
                            b[l] = bias is not null && l < lanes ? bias[c0 + l] : 0f;
                        }
                        new Span<float>(input, padded * Lanes).Clear();
                        PixelMajor.FromPlanes(xs + ((long)n * g.InChannels + c0) * g.InPixels, g.InPixels, lanes, g.InPixels, input, offsets);
                        Outputs(g.OutPixels, taps, input, offsets + g.InPixels, offsets + g.InPixels + g.OutPixels, w, b, outputs, low, high);
                        PixelMajor.ToPlanes(outputs, g.OutPixels, ys + ((long)n * g.OutChannels + c0) * g.OutPixels, g.OutPixels, lanes);
                    }
                }
                TensorPool.Return(scratch);
            }, DirectConv.ItemsPerChunk((long)g.OutPixels * taps * Lanes));
        }
        finally
        {
            TensorPool.ReturnInts(layout);
        }
    }

    /// <summary>Every output pixel's 16 channels: the bias, then each tap's input vector times its weights, clamped.</summary>
    private static void Outputs(int pixels, int taps, float* input, int* origins, int* tapOffsets, float* w, float* b, float* outputs, float low, float high)
    {
        var bias = Vector512.Load(b);
        int q = 0;
        for (; q + PixelsPerStep <= pixels; q += PixelsPerStep) Step(taps, input, origins + q, tapOffsets, w, bias, outputs + q * Lanes, low, high);
        for (; q < pixels; q++)
        {
            var sum = bias;
            float* origin = input + origins[q];
            for (int t = 0; t < taps; t++) sum = Avx512F.FusedMultiplyAdd(Vector512.Load(origin + tapOffsets[t]), Vector512.Load(w + t * Lanes), sum);
            V512.Clamp(sum, low, high).Store(outputs + q * Lanes);
        }
    }

    /// <summary>8 output pixels at once: eight independent sums cover the multiply-add latency.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Step(int taps, float* input, int* origins, int* tapOffsets, float* w, Vector512<float> bias, float* outputs, float low, float high)
    {
        float* o0 = input + origins[0], o1 = input + origins[1], o2 = input + origins[2], o3 = input + origins[3];
        float* o4 = input + origins[4], o5 = input + origins[5], o6 = input + origins[6], o7 = input + origins[7];
        Vector512<float> s0 = bias, s1 = bias, s2 = bias, s3 = bias, s4 = bias, s5 = bias, s6 = bias, s7 = bias;
        for (int t = 0; t < taps; t++)
        {
            nint at = tapOffsets[t];
            var k = Vector512.Load(w + t * Lanes);
            s0 = Avx512F.FusedMultiplyAdd(Vector512.Load(o0 + at), k, s0);
            s1 = Avx512F.FusedMultiplyAdd(Vector512.Load(o1 + at), k, s1);
            s2 = Avx512F.FusedMultiplyAdd(Vector512.Load(o2 + at), k, s2);
            s3 = Avx512F.FusedMultiplyAdd(Vector512.Load(o3 + at), k, s3);
            s4 = Avx512F.FusedMultiplyAdd(Vector512.Load(o4 + at), k, s4);
            s5 = Avx512F.FusedMultiplyAdd(Vector512.Load(o5 + at), k, s5);
            s6 = Avx512F.FusedMultiplyAdd(Vector512.Load(o6 + at), k, s6);
            s7 = Avx512F.FusedMultiplyAdd(Vector512.Load(o7 + at), k, s7);
        }
        V512.Clamp(s0, low, high).Store(outputs);
        V512.Clamp(s1, low, high).Store(outputs + Lanes);
        V512.Clamp(s2, low, high).Store(outputs + 2 * Lanes);
        V512.Clamp(s3, low, high).Store(outputs + 3 * Lanes);
        V512.Clamp(s4, low, high).Store(outputs + 4 * Lanes);
        V512.Clamp(s5, low, high).Store(outputs + 5 * Lanes);
        V512.Clamp(s6, low, high).Store(outputs + 6 * Lanes);
        V512.Clamp(s7, low, high).Store(outputs + 7 * Lanes);
    }
}
