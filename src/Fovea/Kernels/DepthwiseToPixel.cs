using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// Inference of depthwise convolutions (channel multiplier 1) whose output is one pixel, from inputs of up to 16 pixels
/// (MobileNetV2-style's stride-2 3×3 depthwise on 2×2 maps, cropped to its 2×2 taps by <see cref="KernelCrop"/>): each
/// output is one channel's dot product of a few values, which the direct kernel ran plane by plane (4,608 planes at batch
/// 32, 39 µs). Here 16 channels at a time: their planes transposed to pixel-major (<see cref="PixelMajor"/>), so each
/// input pixel of the 16 is one vector, then from the bias one multiply-add per tap that reads the input, in tap order
/// (the direct loop's), the clamp, and one store of the 16 outputs, which are contiguous in NCHW. AVX-512 only.
/// </summary>
internal static unsafe class DepthwiseToPixel
{
    private const int Lanes = 16;

    public static bool Supports(ConvGeometry g) =>
        Avx512F.IsSupported && DirectConv.IsDepthwise(g) && g.OutChannels == g.InChannels && g.OutPixels == 1 && g.InPixels <= Lanes;

    /// <summary>The taps that read the input, in order (row-major), with the input pixel each reads and its weight for every channel: built once per weight tensor (see ConvPlans).</summary>
    public sealed class Taps
    {
        public Taps(ConvGeometry g, ReadOnlySpan<float> weight)
        {
            int channels = g.OutChannels, padded = (channels + Lanes - 1) / Lanes * Lanes, window = g.KernelHeight * g.KernelWidth;
            var pixels = new List<int>();
            var weights = new List<float>();
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++)
                {
                    int row = i * g.DilationHeight - g.PadTop, column = j * g.DilationWidth - g.PadLeft;
                    if (row < 0 || row >= g.InHeight || column < 0 || column >= g.InWidth) continue;
                    pixels.Add(row * g.InWidth + column);
                    for (int c = 0; c < padded; c++) weights.Add(c < channels ? weight[c * window + i * g.KernelWidth + j] : 0f);
                }
            Pixels = pixels.ToArray();
            Weights = weights.ToArray();
            Stride = padded;
        }

        /// <summary>The input pixel each tap reads.</summary>
        public int[] Pixels { get; }

        /// <summary>Each tap's weights for every channel, <see cref="Stride"/> floats a tap.</summary>
        public float[] Weights { get; }

        public int Stride { get; }
    }

    /// <summary>y [N, C, 1, 1] = the depthwise conv of x [N, C, H, W] with <paramref name="taps"/> and the bias, each output clamped to [<paramref name="low"/>, <paramref name="high"/>].</summary>
    public static void Forward(ConvGeometry g, Taps taps, float[] x, float[]? bias, float[] y, float low, float high)
    {
        int channels = g.OutChannels, groups = (channels + Lanes - 1) / Lanes, pixels = g.InPixels;
        Parallelism.For(g.Batch * groups, (start, end) =>
        {
            float* block = stackalloc float[Lanes * Lanes];
            var lanes = Vector512<int>.Indices;
            fixed (float* xs = x, ys = y, bs = bias, ws = taps.Weights)
            fixed (int* at = taps.Pixels)
            {
                for (int item = start; item < end; item++)
                {
                    int image = item / groups, c0 = item % groups * Lanes, count = Math.Min(Lanes, channels - c0);
                    PixelMajor.FromPlanes(xs + ((long)image * channels + c0) * pixels, pixels, count, pixels, block);
                    var live = Vector512.LessThan(lanes, Vector512.Create(count)).AsSingle();
                    var sum = bs == null ? Vector512<float>.Zero : Avx512F.MaskLoad(bs + c0, live, Vector512<float>.Zero);
                    for (int t = 0; t < taps.Pixels.Length; t++)
                        sum = Avx512F.FusedMultiplyAdd(Vector512.Load(block + at[t] * Lanes), Vector512.Load(ws + (long)t * taps.Stride + c0), sum);
                    Avx512F.MaskStore(ys + (long)image * channels + c0, live, V512.Clamp(sum, low, high));
                }
            }
        }, DirectConv.ItemsPerChunk((long)Lanes * Math.Max(1, taps.Pixels.Length), g.Batch * groups));
    }
}
