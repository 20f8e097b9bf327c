using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// Inference of depthwise convolutions (channel multiplier 1) onto maps of at most 4 pixels from maps of at most 16
/// (MobileNetV2-style's stride-2 3×3 depthwise convs on 4×4 and 2×2 maps, the latter cropped to its 2×2 taps by
/// <see cref="KernelCrop"/>), other than the stride-1 same-size ones <see cref="SmallPlaneDepthwise"/> takes: each output is
/// one channel's dot product of a few values, which the direct kernels ran plane by plane (at batch 32, 4,608 planes of
/// 2×2 in 39 µs, 1,536 of 4×4 in 37). Here 16 channels at a time: their planes transposed to pixel-major
/// (<see cref="PixelMajor"/>), so each input pixel of the 16 is one vector, then for each output pixel, from the bias, one
/// multiply-add per tap that reads the input, in tap order (the direct loop's), the clamp, and the outputs back to planes
/// (one pixel: a single store, its 16 channels being contiguous in NCHW). AVX-512 only.
/// </summary>
internal static unsafe class DepthwiseToPixel
{
    private const int Lanes = 16;

    /// <summary>Output pixels up to which this runs: beyond, the row kernels' vectors fill.</summary>
    private const int MaxOutputPixels = 4;

    public static bool Supports(ConvGeometry g) =>
        Avx512F.IsSupported && DirectConv.IsDepthwise(g) && g.OutChannels == g.InChannels && g.OutPixels <= MaxOutputPixels && g.InPixels <= Lanes
        && !SmallPlaneDepthwise.Supports(g);

    /// <summary>
    /// For each output pixel, the taps that read the input, in order (row-major), with the input pixel each reads; and
    /// each tap's weight for every channel: built once per weight tensor (see ConvPlans).
    /// </summary>
    public sealed class Taps
    {
        public Taps(ConvGeometry g, ReadOnlySpan<float> weight)
        {
            int channels = g.OutChannels, window = g.KernelHeight * g.KernelWidth;
            Stride = (channels + Lanes - 1) / Lanes * Lanes;
            Weights = new float[window * Stride];
            for (int c = 0; c < channels; c++)
                for (int t = 0; t < window; t++) Weights[t * Stride + c] = weight[c * window + t];
            var taps = new List<int>();
            var pixels = new List<int>();
            First = new int[g.OutPixels + 1];
            for (int q = 0; q < g.OutPixels; q++)
            {
                First[q] = taps.Count;
                int top = q / g.OutWidth * g.StrideHeight - g.PadTop, left = q % g.OutWidth * g.StrideWidth - g.PadLeft;
                for (int i = 0; i < g.KernelHeight; i++)
                    for (int j = 0; j < g.KernelWidth; j++)
                    {
                        int row = top + i * g.DilationHeight, column = left + j * g.DilationWidth;
                        if (row < 0 || row >= g.InHeight || column < 0 || column >= g.InWidth) continue;
                        taps.Add(i * g.KernelWidth + j);
                        pixels.Add(row * g.InWidth + column);
                    }
            }
            First[g.OutPixels] = taps.Count;
            TapOf = taps.ToArray();
            PixelOf = pixels.ToArray();
        }

        /// <summary>Output pixel q's reads are [First[q], First[q + 1]) of <see cref="TapOf"/> and <see cref="PixelOf"/>.</summary>
        public int[] First { get; }

        /// <summary>The kernel tap of each read.</summary>
        public int[] TapOf { get; }

        /// <summary>The input pixel of each read.</summary>
        public int[] PixelOf { get; }

        /// <summary>Each kernel tap's weights for every channel, <see cref="Stride"/> floats a tap (zeros past C).</summary>
        public float[] Weights { get; }

        public int Stride { get; }
    }

    /// <summary>y [N, C, outH, outW] = the depthwise conv of x [N, C, H, W] with <paramref name="taps"/> and the bias, each output clamped to [<paramref name="low"/>, <paramref name="high"/>].</summary>
    public static void Forward(ConvGeometry g, Taps taps, float[] x, float[]? bias, float[] y, float low, float high)
    {
        int channels = g.OutChannels, groups = (channels + Lanes - 1) / Lanes, inPixels = g.InPixels, outPixels = g.OutPixels;
        Parallelism.For(g.Batch * groups, (start, end) =>
        {
            float* block = stackalloc float[Lanes * Lanes];
            float* outputs = stackalloc float[MaxOutputPixels * Lanes];
            var lanes = Vector512<int>.Indices;
            fixed (float* xs = x, ys = y, bs = bias, ws = taps.Weights)
            fixed (int* first = taps.First, tapOf = taps.TapOf, pixelOf = taps.PixelOf)
            {
                for (int item = start; item < end; item++)
                {
                    int image = item / groups, c0 = item % groups * Lanes, count = Math.Min(Lanes, channels - c0);
                    PixelMajor.FromPlanes(xs + ((long)image * channels + c0) * inPixels, inPixels, count, inPixels, block);
                    var live = Vector512.LessThan(lanes, Vector512.Create(count)).AsSingle();
                    var start0 = bs == null ? Vector512<float>.Zero : Avx512F.MaskLoad(bs + c0, live, Vector512<float>.Zero);
                    for (int q = 0; q < outPixels; q++)
                    {
                        var sum = start0;
                        for (int r = first[q]; r < first[q + 1]; r++)
                            sum = Avx512F.FusedMultiplyAdd(Vector512.Load(block + pixelOf[r] * Lanes), Vector512.Load(ws + (long)tapOf[r] * taps.Stride + c0), sum);
                        V512.Clamp(sum, low, high).Store(outputs + q * Lanes);
                    }
                    float* target = ys + ((long)image * channels + c0) * outPixels;
                    if (outPixels == 1) Avx512F.MaskStore(target, live, Vector512.Load(outputs));
                    else PixelMajor.ToPlanes(outputs, outPixels, target, outPixels, count);
                }
            }
        }, DirectConv.ItemsPerChunk((long)Lanes * Math.Max(1, taps.TapOf.Length), g.Batch * groups));
    }
}
