using System.Globalization;
using Fovea.Analysis;
using SkiaSharp;

namespace Fovea.Vision;

public static partial class Plots
{
    private static readonly SKColor InteriorColour = new(0x00, 0xB4, 0xFF);

    /// <summary>
    /// Equivariance as a picture, four panels side by side: the transformed image g(x); the feature map of
    /// the transformed image f(g(x)); the transformed feature map g′(f(x)) (both maps on one grey scale);
    /// and |f(g(x)) − g′(f(x))| on a heat scale whose top is the maps' largest magnitude. A dashed blue
    /// box marks the interior the probe compares (no border effects inside it); the footer gives the
    /// largest difference inside and outside it.
    /// </summary>
    /// <returns>The size of the PNG written.</returns>
    public static (int Width, int Height) FeatureMaps(string path, string title, float[,] transformedImage, float[,] mapOfTransformed, float[,] transformedMap,
        bool[,]? interior = null, string transform = "g", int panelPixels = 240)
    {
        int rows = mapOfTransformed.GetLength(0), columns = mapOfTransformed.GetLength(1);
        if (transformedMap.GetLength(0) != rows || transformedMap.GetLength(1) != columns || interior is not null && (interior.GetLength(0) != rows || interior.GetLength(1) != columns))
            throw new ArgumentException($"FeatureMaps: the maps and the interior must have one size. Received {rows}×{columns}, {transformedMap.GetLength(0)}×{transformedMap.GetLength(1)}"
                + (interior is null ? "" : $" and {interior.GetLength(0)}×{interior.GetLength(1)}"));
        const int gap = 24, titleHeight = 52, captionHeight = 44, footerHeight = 34;
        int width = 4 * panelPixels + 5 * gap, height = titleHeight + panelPixels + captionHeight + footerHeight;
        var difference = new float[rows, columns];
        float low = float.PositiveInfinity, high = float.NegativeInfinity, insideMax = 0, outsideMax = 0;
        for (int y = 0; y < rows; y++)
            for (int x = 0; x < columns; x++)
            {
                float a = mapOfTransformed[y, x], b = transformedMap[y, x], d = Math.Abs(a - b);
                difference[y, x] = d;
                low = Math.Min(low, Math.Min(a, b));
                high = Math.Max(high, Math.Max(a, b));
                if (interior is null || interior[y, x]) insideMax = Math.Max(insideMax, d);
                else outsideMax = Math.Max(outsideMax, d);
            }
        float magnitude = Math.Max(Math.Abs(low), Math.Abs(high));
        var (imageLow, imageHigh) = Range(transformedImage);

        using var canvas = new PngCanvas(width, height);
        var c = canvas.Canvas;
        Text.Centred(c, title, width / 2f, 34, 18, bold: true);
        var panels = Enumerable.Range(0, 4).Select(i => SKRect.Create(gap + i * (panelPixels + gap), titleHeight, panelPixels, panelPixels)).ToArray();
        Raster.Draw(c, transformedImage.GetLength(0), transformedImage.GetLength(1), (y, x) => Raster.Grey(transformedImage[y, x], imageLow, imageHigh), Square(panels[0], transformedImage));
        Raster.Draw(c, rows, columns, (y, x) => Raster.Grey(mapOfTransformed[y, x], low, high), Square(panels[1], mapOfTransformed));
        Raster.Draw(c, rows, columns, (y, x) => Raster.Grey(transformedMap[y, x], low, high), Square(panels[2], transformedMap));
        Raster.Draw(c, rows, columns, (y, x) => Raster.Heat(difference[y, x], magnitude), Square(panels[3], difference));
        if (interior is not null && Bounds(interior) is { } box)
            for (int p = 1; p < 4; p++)
            {
                var panel = Square(panels[p], difference);
                float cell = panel.Width / columns;
                Raster.Frame(c, SKRect.Create(panel.Left + box.Left * cell, panel.Top + box.Top * cell, (box.Right - box.Left + 1) * cell, (box.Bottom - box.Top + 1) * cell), InteriorColour, 2, dashed: true);
            }
        string[] captions = [$"{transform}(x): transformed image", $"f({transform}(x)): map of transformed", $"{transform}′(f(x)): transformed map", string.Create(CultureInfo.InvariantCulture, $"|difference|: 0 black, {magnitude:0.##} yellow")];
        for (int p = 0; p < 4; p++) Text.Centred(c, captions[p], panels[p].MidX, titleHeight + panelPixels + 26, 14);
        string values = string.Create(CultureInfo.InvariantCulture, $"map values {low:0.##} to {high:0.##}");
        string footer = interior is null
            ? string.Create(CultureInfo.InvariantCulture, $"largest |difference| {Small(insideMax)};  {values}")
            : string.Create(CultureInfo.InvariantCulture, $"inside the dashed box (no border effects): largest |difference| {Small(insideMax)};  outside it: {Small(outsideMax)};  {values}");
        Text.Centred(c, footer, width / 2f, height - 14, 14, color: new SKColor(0x33, 0x33, 0x33));
        canvas.Save(path);
        return (width, height);
    }

    /// <summary>"0" for an exact zero (what equivariance looks like), else three significant digits in e-notation.</summary>
    private static string Small(float value) => value == 0 ? "0" : value.ToString("0.##e0", CultureInfo.InvariantCulture);

    /// <summary>A <see cref="FeatureMapComparison"/> from the equivariance probe as a picture.</summary>
    public static (int Width, int Height) FeatureMaps(string path, string title, FeatureMapComparison comparison, int panelPixels = 240) =>
        FeatureMaps(path, title, comparison.TransformedImage, comparison.MapOfTransformed, comparison.TransformedMap, comparison.Interior, "g", panelPixels);

    /// <summary>The largest square-celled rectangle for <paramref name="values"/> centred in <paramref name="panel"/>, a whole number of pixels per cell where possible.</summary>
    private static SKRect Square(SKRect panel, float[,] values)
    {
        int rows = values.GetLength(0), columns = values.GetLength(1);
        float cell = Math.Min(panel.Width / columns, panel.Height / rows);
        if (cell >= 1) cell = MathF.Floor(cell);
        float w = cell * columns, h = cell * rows;
        return SKRect.Create(panel.MidX - w / 2, panel.MidY - h / 2, w, h);
    }

    private static (float Low, float High) Range(float[,] values)
    {
        float low = float.PositiveInfinity, high = float.NegativeInfinity;
        foreach (float v in values)
        {
            low = Math.Min(low, v);
            high = Math.Max(high, v);
        }
        return (low, high);
    }

    /// <summary>The smallest rectangle holding every true cell, or null when none is.</summary>
    private static (int Top, int Bottom, int Left, int Right)? Bounds(bool[,] mask)
    {
        int top = int.MaxValue, bottom = -1, left = int.MaxValue, right = -1;
        for (int y = 0; y < mask.GetLength(0); y++)
            for (int x = 0; x < mask.GetLength(1); x++)
                if (mask[y, x])
                {
                    top = Math.Min(top, y);
                    bottom = Math.Max(bottom, y);
                    left = Math.Min(left, x);
                    right = Math.Max(right, x);
                }
        return bottom < 0 ? null : (top, bottom, left, right);
    }
}
