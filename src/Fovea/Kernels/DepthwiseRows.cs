using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// Depthwise convolution forward (MobileNet's 3×3 layers) at column stride 1 or 2 with AVX-512, 16 outputs of a row
/// at a time, every tap read straight from the input row by <see cref="StridedColumns"/> (zeros in the padding).
/// <see cref="DirectConv"/> first copies each plane into a padded, stride-phased layout; on the small planes of
/// MobileNet's later stages that copy cost several times the multiply-adds (3 GFLOP/s on 16×16 → 8×8 planes). Rows
/// whose kernel row lies in the padding are skipped; sums start from the bias and add taps in row-major order, and
/// each output is clamped to [low, high] as it is stored (a fused ReLU or ReLU6).
/// </summary>
internal static unsafe class DepthwiseRows
{
    /// <summary>
    /// Whether F.Conv2d runs <paramref name="g"/> here: depthwise, AVX-512, column stride 2 (where the phased copy costs
    /// most: 16×16 → 8×8 planes 1.3× faster here), rows of at least 8 outputs (narrower ones go by channels). At stride 1
    /// the padded copy is a plain one and <see cref="DirectConv"/>'s four-row blocking wins (8×8 planes 1.5× faster there).
    /// The kernel itself takes column strides 1 and 2 and any row width.
    /// </summary>
    public static bool Supports(ConvGeometry g) =>
        DirectConv.IsDepthwise(g) && Avx512F.IsSupported && g.StrideWidth == 2 && g.OutWidth >= 8;

    public static void Forward(ConvGeometry g, float[] x, float[] weight, float[]? bias, float[] y, float low, float high)
    {
        int m = g.OutChannels / g.InChannels, taps = g.KernelHeight * g.KernelWidth;
        Parallelism.For(g.Batch * g.OutChannels, (start, end) =>
        {
            fixed (float* xs = x, ws = weight, ys = y)
            {
                for (int no = start; no < end; no++)
                {
                    int o = no % g.OutChannels, n = no / g.OutChannels;
                    float* input = xs + ((long)n * g.InChannels + o / m) * g.InPixels;
                    Plane(g, input, ws + (long)o * taps, bias is null ? 0f : bias[o], ys + (long)no * g.OutPixels, low, high);
                }
            }
        }, DirectConv.ItemsPerChunk((long)g.OutPixels * taps));
    }

    private static void Plane(ConvGeometry g, float* input, float* w, float bias, float* output, float low, float high)
    {
        var zero = Vector512<float>.Zero;
        for (int oh = 0; oh < g.OutHeight; oh++, output += g.OutWidth)
            for (int ow = 0; ow < g.OutWidth; ow += 16)
            {
                var acc = Vector512.Create(bias);
                for (int ki = 0; ki < g.KernelHeight; ki++)
                {
                    int ih = oh * g.StrideHeight - g.PadTop + ki * g.DilationHeight;
                    if ((uint)ih >= (uint)g.InHeight) continue;
                    float* row = input + (long)ih * g.InWidth;
                    for (int kj = 0; kj < g.KernelWidth; kj++)
                    {
                        var taps = StridedColumns.Load(row, ow * g.StrideWidth - g.PadLeft + kj * g.DilationWidth, g.InWidth, g.StrideWidth, zero);
                        acc = Avx512F.FusedMultiplyAdd(taps, Vector512.Create(w[ki * g.KernelWidth + kj]), acc);
                    }
                }
                StridedColumns.Store(output + ow, V512.Clamp(acc, low, high), g.OutWidth - ow);
            }
    }
}
