using SkiaSharp;

namespace Fovea.Vision;

/// <summary>Titles and captions drawn straight onto a canvas (pictures that are not ScottPlot charts).</summary>
internal static class Text
{
    private static readonly SKTypeface Sans = SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default;
    private static readonly SKTypeface Bold = SKTypeface.FromFamilyName("DejaVu Sans", SKFontStyle.Bold) ?? Sans;

    /// <summary>The width <paramref name="text"/> takes at <paramref name="size"/> points.</summary>
    public static float Width(string text, float size, bool bold = false)
    {
        using var font = new SKFont(bold ? Bold : Sans, size);
        return font.MeasureText(text);
    }

    /// <summary>Draws <paramref name="text"/> centred on <paramref name="x"/> with its baseline at <paramref name="y"/>.</summary>
    public static void Centred(SKCanvas canvas, string text, float x, float y, float size, bool bold = false, SKColor? color = null)
    {
        using var font = new SKFont(bold ? Bold : Sans, size);
        using var paint = new SKPaint { Color = color ?? new SKColor(0x22, 0x22, 0x22), IsAntialias = true };
        canvas.DrawText(text, x, y, SKTextAlign.Center, font, paint);
    }
}
