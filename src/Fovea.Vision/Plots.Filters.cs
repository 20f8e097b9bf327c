using SkiaSharp;

namespace Fovea.Vision;

public static partial class Plots
{
    /// <summary>
    /// The filters of a convolution as a grid of small images, from its weight [O, C, kH, kW] (row-major,
    /// as Conv2d.Weight holds it). Each filter is normalised on its own (its smallest weight black, its
    /// largest white) and upscaled by nearest neighbour; a 3-channel filter is one colour tile (R, G, B),
    /// otherwise every (filter, input channel) is a grey tile, filters in reading order.
    /// </summary>
    /// <param name="path">The PNG file.</param>
    /// <param name="title">The picture's title, e.g. "cnn-small conv1: 32 filters, 3×3".</param>
    /// <param name="weight">O·C·kH·kW weights.</param>
    /// <param name="outChannels">O.</param>
    /// <param name="inChannels">C.</param>
    /// <param name="kernelHeight">kH.</param>
    /// <param name="kernelWidth">kW.</param>
    /// <param name="tilePixels">Side of one tile in pixels.</param>
    /// <param name="columns">Tiles per row (0: about square).</param>
    /// <returns>The size of the PNG written, which follows from the tile count.</returns>
    public static (int Width, int Height) FilterGrid(string path, string title, ReadOnlySpan<float> weight, int outChannels, int inChannels, int kernelHeight, int kernelWidth,
        int tilePixels = 56, int columns = 0)
    {
        if (outChannels < 1 || inChannels < 1 || kernelHeight < 1 || kernelWidth < 1 || weight.Length != outChannels * inChannels * kernelHeight * kernelWidth)
            throw new ArgumentException($"FilterGrid: a weight [{outChannels}, {inChannels}, {kernelHeight}, {kernelWidth}] needs {outChannels * inChannels * kernelHeight * kernelWidth} values. Received: {weight.Length}");
        bool colour = inChannels == 3;
        int tiles = colour ? outChannels : outChannels * inChannels;
        if (columns <= 0) columns = Math.Min(tiles, Math.Max(1, (int)Math.Ceiling(Math.Sqrt(tiles * 2.0))));
        int rows = (tiles + columns - 1) / columns, gap = Math.Max(4, tilePixels / 8), titleHeight = 48;
        string footer = $"each tile scaled on its own: smallest weight black, largest white ({kernelHeight}×{kernelWidth} kernels)";
        int width = (int)Math.Ceiling(Math.Max(columns * (tilePixels + gap) + gap, Math.Max(Text.Width(title, 18, bold: true), Text.Width(footer, 12)) + 32)), height = titleHeight + rows * (tilePixels + gap) + gap + 22;
        int plane = kernelHeight * kernelWidth, filter = inChannels * plane;
        var values = weight.ToArray();
        using var canvas = new PngCanvas(width, height);
        Text.Centred(canvas.Canvas, title, width / 2f, 32, 18, bold: true);
        float left = (width - (columns * (tilePixels + gap) - gap)) / 2f;
        for (int t = 0; t < tiles; t++)
        {
            int o = colour ? t : t / inChannels, c = colour ? 0 : t % inChannels;
            var span = colour ? values.AsSpan(o * filter, filter) : values.AsSpan(o * filter + c * plane, plane);
            float low = float.PositiveInfinity, high = float.NegativeInfinity;
            foreach (float v in span)
            {
                low = Math.Min(low, v);
                high = Math.Max(high, v);
            }
            var target = SKRect.Create(left + t % columns * (tilePixels + gap), titleHeight + t / columns * (tilePixels + gap), tilePixels, tilePixels);
            int offset = colour ? o * filter : o * filter + c * plane;
            Raster.Draw(canvas.Canvas, kernelHeight, kernelWidth, (y, x) => colour
                ? new SKColor(Raster.Grey(values[offset + y * kernelWidth + x], low, high).Red, Raster.Grey(values[offset + plane + y * kernelWidth + x], low, high).Red, Raster.Grey(values[offset + 2 * plane + y * kernelWidth + x], low, high).Red)
                : Raster.Grey(values[offset + y * kernelWidth + x], low, high), target);
            Raster.Frame(canvas.Canvas, target, new SKColor(0xAA, 0xAA, 0xAA));
        }
        Text.Centred(canvas.Canvas, footer, width / 2f, height - 10, 12, color: new SKColor(0x66, 0x66, 0x66));
        canvas.Save(path);
        return (width, height);
    }
}
