using System.Numerics.Tensors;

namespace Fovea.Kernels;

/// <summary>
/// Ungrouped convolutions whose images have few output pixels (late ResNet/VGG stages, 1×1 stride-2
/// downsamples), run as one GEMM per group of images instead of one per image. Per image such a product is
/// [O, K]·[K, a handful of pixels]: the micro-kernel's 32-column tile ran mostly empty and the weights were
/// packed again for every image (1–3 GFLOP/s). Here the im2col windows of several images are laid side by
/// side, pixel-major ([images·pixels, K], one window per row), so the product has images·pixels rows; it is
/// computed transposed, [images·pixels, O] = columns·Wᵀ, which also sends a single image with ≤ 4 pixels to
/// the GEMM's few-rows kernel. The result is transposed back into NCHW. Backward uses the same layout:
/// dW += dYᵀ·columns, dColumns = dY·W, folded back into dx.
/// A window's taps are read through a table of offsets per (pixel, tap), built once per call (−1: padding).
/// </summary>
internal static unsafe class BatchedIm2ColConv
{
    /// <summary>Rows (images × pixels) aimed for per GEMM: enough for full micro-tiles and one packing of W to serve many.</summary>
    private const int TargetRows = 256;

    /// <summary>Most floats of one group's im2col matrix (2 MB), so that it stays in the L2/L3 between unfold and GEMM.</summary>
    private const int MaxColumnFloats = 1 << 19;

    /// <summary>
    /// Whether <paramref name="g"/> runs here: ungrouped, and either several images fit one GEMM or a single image
    /// has so few pixels that the transposed product is a matrix-vector one.
    /// </summary>
    public static bool Supports(ConvGeometry g) =>
        g.Groups == 1 && g.OutPixels <= MaxPixels(g) && (ImagesPerGemm(g) > 1 || g.OutPixels <= Gemm.SmallRows);

    /// <summary>
    /// Above this many output pixels an image fills the GEMM's tiles well enough that building the im2col matrix
    /// (a gather of K floats per pixel) costs more than batching saves. The implicit GEMM builds none, so it keeps
    /// images of 16 pixels and more (measured: 4×4 at 0.8×, 3×3 at 1.2–2.4×); per-image im2col loses up to 8×8.
    /// </summary>
    private static int MaxPixels(ConvGeometry g) => ImplicitConv.Supports(g) ? 15 : 64;

    /// <summary>Images whose windows go into one GEMM; depends only on the geometry, so the bits do not depend on the thread count.</summary>
    public static int ImagesPerGemm(ConvGeometry g)
    {
        long rowFloats = (long)g.OutPixels * g.WindowLength;
        long byRows = TargetRows / g.OutPixels, byMemory = MaxColumnFloats / rowFloats;
        return (int)Math.Clamp(Math.Min(byRows, byMemory), 1, g.Batch);
    }

    /// <summary>Floats of scratch for one group: its im2col matrix, then its [rows, O] product.</summary>
    public static int ScratchLength(ConvGeometry g) =>
        ImagesPerGemm(g) * g.OutPixels * (g.WindowLength + g.OutChannels);

    /// <summary>Fills <paramref name="offsets"/> [P·kH·kW]: for output pixel p and tap t, the input offset ih·W + iw it reads, or −1 in the padding.</summary>
    public static void PixelOffsets(ConvGeometry g, Span<int> offsets)
    {
        int i = 0;
        for (int oh = 0; oh < g.OutHeight; oh++)
            for (int ow = 0; ow < g.OutWidth; ow++)
                for (int ki = 0; ki < g.KernelHeight; ki++)
                    for (int kj = 0; kj < g.KernelWidth; kj++)
                    {
                        int ih = oh * g.StrideHeight - g.PadTop + ki * g.DilationHeight;
                        int iw = ow * g.StrideWidth - g.PadLeft + kj * g.DilationWidth;
                        offsets[i++] = (uint)ih < (uint)g.InHeight && (uint)iw < (uint)g.InWidth ? ih * g.InWidth + iw : -1;
                    }
    }

    /// <summary>Images [first, first + count) of y [N, O, outH, outW] = conv of x with weight [O, C, kH, kW] (+ bias [O]).</summary>
    public static void Forward(ConvGeometry g, ReadOnlySpan<int> offsets, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        Span<float> y, int first, int count, Span<float> scratch)
    {
        int rows = count * g.OutPixels, k = g.WindowLength, o = g.OutChannels;
        var columns = scratch[..(rows * k)];
        var product = scratch.Slice(ImagesPerGemm(g) * g.OutPixels * k, rows * o);
        Unfold(g, offsets, x, first, count, columns);
        Gemm.Sgemm(false, true, rows, o, k, 1f, columns, k, weight, k, 0f, product, o);
        int p = g.OutPixels;
        for (int i = 0; i < count; i++)
        {
            var image = y.Slice((first + i) * o * p, o * p);
            var source = product.Slice(i * p * o, p * o);
            if (p == 1)
            {
                if (bias.IsEmpty) source.CopyTo(image);
                else TensorPrimitives.Add(source, bias, image);
                continue;
            }
            for (int c = 0; c < o; c++)
            {
                float b = bias.IsEmpty ? 0f : bias[c];
                var plane = image.Slice(c * p, p);
                for (int q = 0; q < p; q++) plane[q] = source[q * o + c] + b;
            }
        }
    }

    /// <summary>
    /// The gradients of images [first, first + count): dx += (when not empty) the input gradient, dw [O, K] and
    /// dbias [O] += their sums over these images (either may be empty).
    /// </summary>
    public static void Backward(ConvGeometry g, ReadOnlySpan<int> offsets, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> dy,
        Span<float> dx, Span<float> dw, Span<float> dbias, int first, int count, Span<float> scratch)
    {
        int p = g.OutPixels, rows = count * p, k = g.WindowLength, o = g.OutChannels;
        var columns = scratch[..(rows * k)];
        var dyRows = scratch.Slice(ImagesPerGemm(g) * p * k, rows * o);
        for (int i = 0; i < count; i++)
        {
            var image = dy.Slice((first + i) * o * p, o * p);
            var target = dyRows.Slice(i * p * o, p * o);
            if (p == 1) image.CopyTo(target);
            else for (int c = 0; c < o; c++)
                    for (int q = 0; q < p; q++) target[q * o + c] = image[c * p + q];
        }
        if (!dbias.IsEmpty)
            for (int r = 0; r < rows; r++) TensorPrimitives.Add(dbias, dyRows.Slice(r * o, o), dbias);
        if (!dw.IsEmpty)
        {
            Unfold(g, offsets, x, first, count, columns);
            Gemm.Sgemm(true, false, o, k, rows, 1f, dyRows, o, columns, k, 1f, dw, k);
        }
        if (dx.IsEmpty) return;
        Gemm.Sgemm(false, false, rows, k, o, 1f, dyRows, o, weight, k, 0f, columns, k);
        FoldAdd(g, offsets, columns, dx, first, count);
    }

    /// <summary>Row (i·P + p) of <paramref name="columns"/> = the window of pixel p of image first + i, channel-major like the weight rows.</summary>
    private static void Unfold(ConvGeometry g, ReadOnlySpan<int> offsets, ReadOnlySpan<float> x, int first, int count, Span<float> columns)
    {
        int taps = g.KernelHeight * g.KernelWidth, p = g.OutPixels, channels = g.InChannels, inPixels = g.InPixels;
        fixed (float* xs = x, cs = columns)
        fixed (int* offs = offsets)
        {
            float* row = cs;
            for (int i = 0; i < count; i++)
            {
                float* image = xs + (long)(first + i) * channels * inPixels;
                for (int q = 0; q < p; q++)
                {
                    int* pixel = offs + q * taps;
                    if (taps == 1 && pixel[0] >= 0)
                    {
                        // 1×1 windows (strided downsamples): one gather down the channels.
                        float* source = image + pixel[0];
                        for (int c = 0; c < channels; c++, row++) *row = source[(long)c * inPixels];
                        continue;
                    }
                    for (int c = 0; c < channels; c++)
                    {
                        float* plane = image + (long)c * inPixels;
                        for (int t = 0; t < taps; t++, row++) *row = pixel[t] >= 0 ? plane[pixel[t]] : 0f;
                    }
                }
            }
        }
    }

    /// <summary>The adjoint of <see cref="Unfold"/>: adds every window entry into the input pixel it was read from.</summary>
    private static void FoldAdd(ConvGeometry g, ReadOnlySpan<int> offsets, ReadOnlySpan<float> columns, Span<float> dx, int first, int count)
    {
        int taps = g.KernelHeight * g.KernelWidth, p = g.OutPixels, channels = g.InChannels, inPixels = g.InPixels;
        fixed (float* dxs = dx, cs = columns)
        fixed (int* offs = offsets)
        {
            float* row = cs;
            for (int i = 0; i < count; i++)
            {
                float* image = dxs + (long)(first + i) * channels * inPixels;
                for (int q = 0; q < p; q++)
                {
                    int* pixel = offs + q * taps;
                    for (int c = 0; c < channels; c++)
                    {
                        float* plane = image + (long)c * inPixels;
                        for (int t = 0; t < taps; t++, row++)
                            if (pixel[t] >= 0) plane[pixel[t]] += *row;
                    }
                }
            }
        }
    }
}
