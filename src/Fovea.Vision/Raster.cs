using SkiaSharp;

namespace Fovea.Vision;

/// <summary>Small arrays drawn as images, each value one sharp-edged block (nearest-neighbour upscaling keeps pixels honest).</summary>
internal static class Raster
{
    /// <summary>Grey levels: <paramref name="low"/> black, <paramref name="high"/> white (all mid-grey when they are equal).</summary>
    public static SKColor Grey(float value, float low, float high)
    {
        byte level = (byte)Math.Round(255 * Unit(value, low, high));
        return new SKColor(level, level, level);
    }

    /// <summary>A heat scale for magnitudes: 0 black, through red and orange, <paramref name="high"/> and above pale yellow.</summary>
    public static SKColor Heat(float value, float high)
    {
        float t = (float)Unit(value, 0, high);
        byte r = (byte)Math.Round(255 * Math.Min(1, 2.2 * t));
        byte g = (byte)Math.Round(255 * Math.Clamp(1.6 * t - 0.45, 0, 1));
        byte b = (byte)Math.Round(255 * Math.Clamp(2.5 * t - 1.6, 0, 0.8));
        return new SKColor(r, g, b);
    }

    private static double Unit(float value, float low, float high) => high > low ? Math.Clamp((value - low) / (high - low), 0, 1) : 0.5;

    /// <summary>Draws a rows×columns array, coloured by <paramref name="colour"/>, stretched onto <paramref name="target"/>.</summary>
    public static void Draw(SKCanvas canvas, int rows, int columns, Func<int, int, SKColor> colour, SKRect target)
    {
        using var bitmap = new SKBitmap(columns, rows, SKColorType.Rgba8888, SKAlphaType.Opaque);
        for (int y = 0; y < rows; y++)
            for (int x = 0; x < columns; x++) bitmap.SetPixel(x, y, colour(y, x));
        using var image = SKImage.FromBitmap(bitmap);
        canvas.DrawImage(image, target, new SKSamplingOptions(SKFilterMode.Nearest, SKMipmapMode.None));
    }

    /// <summary>A thin frame around <paramref name="target"/>.</summary>
    public static void Frame(SKCanvas canvas, SKRect target, SKColor colour, float width = 1, bool dashed = false)
    {
        using var paint = new SKPaint { Color = colour, Style = SKPaintStyle.Stroke, StrokeWidth = width, IsAntialias = false };
        if (dashed) paint.PathEffect = SKPathEffect.CreateDash([6, 4], 0);
        canvas.DrawRect(target, paint);
    }
}
