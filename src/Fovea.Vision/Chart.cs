using System.Globalization;
using ScottPlot;
using SkiaSharp;

namespace Fovea.Vision;

/// <summary>
/// What every ScottPlot chart here shares: the font, colours that stay with a series from one plot to
/// the next (the i-th model is the same colour in the learning curves, shift and cost plots), base-10
/// log axes, and drawing into a <see cref="PngCanvas"/>.
/// </summary>
internal static class Chart
{
    private static readonly IPalette Palette = new ScottPlot.Palettes.Category10();

    public static Color Colour(int index) => Palette.GetColor(index);

    public static Plot Create(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Font.Set("DejaVu Sans");
        plot.Title(title, size: 18);
        plot.XLabel(xLabel, size: 14);
        plot.YLabel(yLabel, size: 14);
        plot.Axes.Left.TickLabelStyle.FontSize = 12;
        plot.Axes.Bottom.TickLabelStyle.FontSize = 12;
        return plot;
    }

    /// <summary>Labels the left axis 10^k for values already given as log10: major ticks on whole powers, minor ticks between.</summary>
    public static void LogLeftAxis(Plot plot)
    {
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = PowerOfTen,
        };
        plot.Axes.Left.MinorTickStyle.Length = 4;
    }

    /// <summary>"1e-6", "1", "1k", "10M": short labels for powers of ten.</summary>
    public static string PowerOfTen(double exponent)
    {
        int e = (int)Math.Round(exponent);
        return e switch
        {
            0 => "1",
            1 => "10",
            2 => "100",
            3 => "1k",
            6 => "1M",
            9 => "1G",
            12 => "1T",
            > 3 and < 15 => string.Create(CultureInfo.InvariantCulture, $"{Math.Pow(10, e % 3)}{"kMGT"[e / 3 - 1]}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"1e{e}"),
        };
    }

    /// <summary>A count as people say it: 412, 8.5k, 1.2M, 3.4G.</summary>
    public static string Count(double value)
    {
        string[] units = ["", "k", "M", "G", "T"];
        int unit = 0;
        while (Math.Abs(value) >= 1000 && unit < units.Length - 1)
        {
            value /= 1000;
            unit++;
        }
        string format = unit == 0 || Math.Abs(value) >= 100 ? "0" : Math.Abs(value) >= 10 ? "0.#" : "0.##";
        return value.ToString(format, CultureInfo.InvariantCulture) + units[unit];
    }

    /// <summary>Renders <paramref name="plot"/> into the rectangle of <paramref name="canvas"/> at (<paramref name="left"/>, <paramref name="top"/>).</summary>
    public static void Draw(Plot plot, PngCanvas canvas, int left, int top, int width, int height)
    {
        var c = canvas.Canvas;
        c.Save();
        c.Translate(left, top);
        c.ClipRect(new SKRect(0, 0, width, height));
        plot.Render(c, width, height);
        c.Restore();
    }

    /// <summary>One chart filling a PNG of the given size.</summary>
    public static void Save(Plot plot, string path, int width, int height)
    {
        using var canvas = new PngCanvas(width, height);
        Draw(plot, canvas, 0, 0, width, height);
        canvas.Save(path);
    }
}
