using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// Inference of depthwise convolutions (channel multiplier 1, stride 1, output the size of the input) on planes of 1,
/// 2, 4, 8 or 16 pixels: MobileNet's last stages (4×4 and 2×2 maps, and 1×1 maps once <see cref="KernelCrop"/> has cut
/// the kernel to its centre). An image's NCHW values are then a row of C·P floats in which 16 / P whole channels fill a
/// vector, so output lane (c, p) = bias[c] + Σ_j x[c, j]·w[c, tap(p, j)] is P multiply-adds of whole vectors, each
/// x[c, j] spread over its channel's lanes by one permute, and masked to zero in the lanes whose output does not read it
/// (no tap joins them: so an infinite input there stays out of the sum). Input pixels go in order, which is the order of
/// the taps that read them (bias first). Before, each such conv went through <see cref="DepthwiseConvByChannels"/>'
/// transposes: 55 µs for MobileNet's 240 channels on 1×1 maps at batch 32. AVX-512 only.
/// </summary>
internal static unsafe class SmallPlaneDepthwise
{
    private const int Lanes = 16;

    /// <summary>Whether <paramref name="g"/> runs here: see the class summary.</summary>
    public static bool Supports(ConvGeometry g) =>
        Avx512F.IsSupported && DirectConv.IsDepthwise(g) && g.OutChannels == g.InChannels && g.StrideHeight == 1 && g.StrideWidth == 1
        && g.OutHeight == g.InHeight && g.OutWidth == g.InWidth && g.InPixels is 1 or 2 or 4 or 8 or 16;

    /// <summary>The tap (ki·kW + kj) through which output pixel <paramref name="q"/> reads input pixel <paramref name="j"/>, or −1 where none does.</summary>
    private static int Tap(ConvGeometry g, int q, int j)
    {
        int dh = j / g.InWidth - q / g.OutWidth + g.PadTop, dw = j % g.InWidth - q % g.OutWidth + g.PadLeft;
        if (dh < 0 || dw < 0 || dh % g.DilationHeight != 0 || dw % g.DilationWidth != 0) return -1;
        int ki = dh / g.DilationHeight, kj = dw / g.DilationWidth;
        return ki < g.KernelHeight && kj < g.KernelWidth ? ki * g.KernelWidth + kj : -1;
    }

    /// <summary>
    /// The weights laid out for <see cref="Forward"/>: per vector of the image row and input pixel j, the weight each lane
    /// multiplies x[c, j] by (zero past the row and where no tap joins them); then per input pixel j the lanes that read it
    /// (all bits set) and those that do not (zero). Kept per weight tensor by <see cref="ConvPlans"/>: building them took
    /// longer than a batch-1 conv.
    /// </summary>
    public static float[] Factors(ConvGeometry g, ReadOnlySpan<float> weight)
    {
        int pixels = g.InPixels, rowLength = g.InChannels * pixels, vectors = (rowLength + Lanes - 1) / Lanes, taps = g.KernelHeight * g.KernelWidth;
        Span<int> tapOf = stackalloc int[pixels * pixels];
        for (int q = 0; q < pixels; q++)
            for (int j = 0; j < pixels; j++) tapOf[q * pixels + j] = Tap(g, q, j);
        var factors = new float[(vectors + 1) * pixels * Lanes];
        for (int at = 0; at < rowLength; at++)
        {
            int c = at / pixels, q = at % pixels, v = at / Lanes, lane = at % Lanes;
            for (int j = 0; j < pixels; j++)
                if (tapOf[q * pixels + j] >= 0) factors[(v * pixels + j) * Lanes + lane] = weight[c * taps + tapOf[q * pixels + j]];
        }
        var masks = MemoryMarshal.Cast<float, int>(factors.AsSpan(vectors * pixels * Lanes));
        for (int lane = 0; lane < Lanes; lane++)
            for (int j = 0; j < pixels; j++) masks[j * Lanes + lane] = tapOf[lane % pixels * pixels + j] >= 0 ? -1 : 0;
        return factors;
    }

    /// <summary>y = the depthwise convolution of x (weights as <see cref="Factors"/>, + bias), each output clamped to [<paramref name="low"/>, <paramref name="high"/>] as it is stored.</summary>
    public static void Forward(ConvGeometry g, float[] factors, float[] x, float[]? bias, float[] y, float low, float high)
    {
        int pixels = g.InPixels, rowLength = g.InChannels * pixels, vectors = (rowLength + Lanes - 1) / Lanes;
        // Each lane's bias (zero past the row, and without a bias).
        float[] biases = TensorPool.Rent(vectors * Lanes);
        for (int at = 0; at < vectors * Lanes; at++) biases[at] = at < rowLength && bias is not null ? bias[at / pixels] : 0f;
        try
        {
            Parallelism.For(g.Batch, (start, end) => Images(x, y, factors, biases, start, end, pixels, rowLength, vectors, low, high),
                DirectConv.ItemsPerChunk((long)rowLength * pixels));
        }
        finally
        {
            TensorPool.Return(biases);
        }
    }

    private static void Images(float[] x, float[] y, float[] factors, float[] biases, int start, int end, int pixels, int rowLength, int vectors, float low, float high)
    {
        var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var channelStart = lane / pixels * pixels;
        var tail = Vector512.LessThan(lane, Vector512.Create(rowLength - (vectors - 1) * Lanes)).AsSingle();
        var all = Vector512<float>.AllBitsSet;
        fixed (float* xs = x, ys = y, f = factors, b = biases)
        {
            float* masks = f + vectors * pixels * Lanes;
            for (int n = start; n < end; n++)
            {
                float* source = xs + (long)n * rowLength, target = ys + (long)n * rowLength;
                for (int v = 0; v < vectors; v++)
                {
                    var mask = v == vectors - 1 ? tail : all;
                    var values = Avx512F.MaskLoad(source + v * Lanes, mask, Vector512<float>.Zero);
                    float* w = f + v * pixels * Lanes;
                    var sum = Vector512.Load(b + v * Lanes);
                    for (int j = 0; j < pixels; j++)
                    {
                        var spread = pixels == 1 ? values : Avx512F.PermuteVar16x32(values, channelStart + Vector512.Create(j));
                        sum = Vector512.FusedMultiplyAdd(spread & Vector512.Load(masks + j * Lanes), Vector512.Load(w + j * Lanes), sum);
                    }
                    Avx512F.MaskStore(target + v * Lanes, mask, V512.Clamp(sum, low, high));
                }
            }
        }
    }
}
