namespace Fovea.Kernels;

/// <summary>
/// Activations in channel blocks, [N, ⌈C / 16⌉, H, W, 16] (ONNX Runtime's NCHWc with c = 16): each pixel of 16
/// channels is one vector, lanes past C hold zeros or whatever the producer stored there, never read. Between
/// <see cref="ChannelVectorConv"/> convs this is the layout their register tiles hold, so a tile's outputs go out as
/// whole vectors in order instead of being transposed into 16 planes at once: writing SqueezeNet-style's 11×11 expand
/// outputs (2 MB at batch 32) that way took a quarter of the conv, the scattered 16-byte stores missing the caches.
/// </summary>
internal static unsafe class ChannelBlocks
{
    public const int Lanes = 16;

    /// <summary>Blocks of 16 that hold <paramref name="channels"/> channels.</summary>
    public static int Count(int channels) => (channels + Lanes - 1) / Lanes;

    /// <summary>
    /// Where channel <paramref name="channel"/>'s pixel <paramref name="pixel"/> of image <paramref name="image"/> lies in
    /// blocks of <paramref name="channels"/> channels and <paramref name="plane"/> pixels (the offset of its block's lane 0).
    /// </summary>
    public static long Offset(int image, int channel, int pixel, int channels, int plane) =>
        (((long)image * Count(channels) + channel / Lanes) * plane + pixel) * Lanes;

    /// <summary>Floats of <paramref name="batch"/> images of <paramref name="channels"/> channels and <paramref name="pixels"/> pixels in blocks.</summary>
    public static long Length(int batch, int channels, int pixels) => (long)batch * Count(channels) * pixels * Lanes;

    /// <summary>x [N, C, P] → y in blocks [N, ⌈C / 16⌉, P, 16], lanes past C zero.</summary>
    public static void FromPlanes(ReadOnlySpan<float> x, int batch, int channels, int pixels, Span<float> y)
    {
        CheckLengths(x.Length, y.Length, batch, channels, pixels);
        fixed (float* xs = x, ys = y) Convert(xs, ys, batch, channels, pixels, toPlanes: false);
    }

    /// <summary>The inverse of <see cref="FromPlanes"/>: blocks [N, ⌈C / 16⌉, P, 16] → planes [N, C, P] (lanes past C dropped).</summary>
    public static void ToPlanes(ReadOnlySpan<float> x, int batch, int channels, int pixels, Span<float> y)
    {
        CheckLengths(y.Length, x.Length, batch, channels, pixels);
        fixed (float* xs = x, ys = y) Convert(ys, xs, batch, channels, pixels, toPlanes: true);
    }

    /// <summary>Each (image, block) of <paramref name="planes"/> to or from <paramref name="blocked"/> through <see cref="PixelMajor"/>, split between threads.</summary>
    private static void Convert(float* planes, float* blocked, int batch, int channels, int pixels, bool toPlanes)
    {
        int blocks = Count(channels);
        Parallelism.For(batch * blocks, (start, end) =>
        {
            for (int item = start; item < end; item++)
            {
                int image = item / blocks, block = item % blocks, count = Math.Min(Lanes, channels - block * Lanes);
                float* plane = planes + ((long)image * channels + block * Lanes) * pixels, vectors = blocked + (long)item * pixels * Lanes;
                if (toPlanes) PixelMajor.ToPlanes(vectors, pixels, plane, pixels, count);
                else PixelMajor.FromPlanes(plane, pixels, count, pixels, vectors);
            }
        }, Math.Max(1, MinFloatsPerChunk / (pixels * Lanes)));
    }

    /// <summary>Floats a thread should at least move before forking pays.</summary>
    private const int MinFloatsPerChunk = 1 << 15;

    private static void CheckLengths(int planes, int blocked, int batch, int channels, int pixels)
    {
        if (planes < (long)batch * channels * pixels || blocked < Length(batch, channels, pixels))
            throw new ArgumentException($"ChannelBlocks: {planes} floats in planes and {blocked} in blocks for {batch} images of {channels} channels × {pixels} pixels");
    }
}
