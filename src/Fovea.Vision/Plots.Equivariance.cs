using Fovea.Analysis;
using ScottPlot;

namespace Fovea.Vision;

public static partial class Plots
{
    /// <summary>Errors at or below this are drawn on the floor of the log axis: float32 rounding, not a property of the layer.</summary>
    private const double ErrorFloor = 1e-8;

    /// <summary>
    /// Relative equivariance error per layer (x: layers in order, y: error on a log axis), one line per
    /// transformation; a dashed line marks the tolerance below which a layer counts as equivariant.
    /// A null error (no position free of border effects) leaves a gap.
    /// </summary>
    /// <param name="path">The PNG file.</param>
    /// <param name="title">The chart title, e.g. the model's name.</param>
    /// <param name="layers">Layer labels, in order.</param>
    /// <param name="transforms">Per transformation its name and one error per layer.</param>
    /// <param name="tolerance">Where to draw the "equivariant below" line.</param>
    /// <param name="firstInvarianceLayer">The first layer without a spatial map (compared with f(x): invariance), marked by a vertical line; null when none.</param>
    /// <param name="width">PNG width in pixels.</param>
    /// <param name="height">PNG height in pixels.</param>
    public static void EquivarianceErrors(string path, string title, IReadOnlyList<string> layers, IReadOnlyList<(string Transform, IReadOnlyList<double?> Errors)> transforms,
        double tolerance = EquivarianceProbe.Tolerance, int? firstInvarianceLayer = null, int width = 1200, int height = 620)
    {
        if (layers.Count == 0 || transforms.Count == 0) throw new ArgumentException("EquivarianceErrors: needs at least one layer and one transformation.");
        foreach (var (name, errors) in transforms)
            if (errors.Count != layers.Count) throw new ArgumentException($"EquivarianceErrors: {name} has {errors.Count} errors for {layers.Count} layers.");
        var plot = Chart.Create(title, "layer (errors of 1e-8 or less, float32 rounding, are drawn at 1e-8)", "relative error ‖f(g(x)) − g′(f(x))‖ / ‖f(x)‖");
        Chart.LogLeftAxis(plot);
        for (int t = 0; t < transforms.Count; t++)
        {
            var (name, errors) = transforms[t];
            var colour = Chart.Colour(t);
            bool labelled = false;
            // A gap (null) splits the line, so each unbroken run of layers is its own scatter in the same colour.
            foreach (var run in Runs(errors))
            {
                // Lines that coincide (an exact 0 for several shifts) are nudged sideways so each marker stays visible.
                double nudge = (t - (transforms.Count - 1) / 2.0) * Math.Min(0.06, 0.5 / transforms.Count);
                var line = plot.Add.Scatter(run.Select(i => i + nudge).ToArray(), run.Select(i => Math.Log10(Math.Max(errors[i]!.Value, ErrorFloor))).ToArray(), colour);
                line.LineWidth = 2;
                line.MarkerSize = 8;
                line.MarkerShape = (MarkerShape)((int)MarkerShape.FilledCircle + t % 6);
                if (!labelled) line.LegendText = name;
                labelled = true;
            }
        }
        var threshold = plot.Add.HorizontalLine(Math.Log10(tolerance), 1.5f, Colors.Gray, LinePattern.Dashed);
        threshold.LegendText = $"equivariant below {tolerance:0e0}";
        if (firstInvarianceLayer is { } first && first < layers.Count)
        {
            var boundary = plot.Add.VerticalLine(first - 0.5, 1.5f, Colors.Black.WithAlpha(0.5), LinePattern.Dotted);
            boundary.LegendText = "right of it: no spatial map, f(g(x)) vs f(x)";
        }
        // Two short lines per tick ("3" over "Conv2d") stay readable without rotating them.
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, layers.Count).Select(i => (double)i)], [.. layers]);
        plot.Axes.Bottom.MinimumSize = 60;
        plot.Axes.SetLimitsX(-0.5, layers.Count - 0.5);
        plot.Axes.SetLimitsY(Math.Log10(ErrorFloor) - 0.3, 1);
        plot.ShowLegend(Edge.Right);
        Chart.Save(plot, path, width, height);
    }

    /// <summary>The probe's report as a chart: one line per transformation, layers labelled by name over type.</summary>
    public static void EquivarianceErrors(string path, string title, EquivarianceReport report, int width = 1200, int height = 620)
    {
        var layers = report.Layers;
        int invariance = layers.TakeWhile(l => l.Comparison == EquivarianceComparison.Equivariance).Count();
        EquivarianceErrors(path, title,
            [.. layers.Select(l => $"{l.Name}\n{ShortType(l.Layer)}")],
            [.. report.Transforms.Select(g => (g.Name, (IReadOnlyList<double?>)report.Errors(g)))],
            EquivarianceProbe.Tolerance, invariance < layers.Count ? invariance : null, width, height);
    }

    /// <summary>"Conv2d(1→32, k=3, p=1)" → "Conv2d": the full description does not fit under an axis.</summary>
    private static string ShortType(string layer) => layer.Split('(')[0];

    private static IEnumerable<List<int>> Runs(IReadOnlyList<double?> values)
    {
        var run = new List<int>();
        for (int i = 0; i < values.Count; i++)
        {
            if (values[i] is { } v && !double.IsNaN(v) && !double.IsInfinity(v)) run.Add(i);
            else if (run.Count > 0)
            {
                yield return run;
                run = [];
            }
        }
        if (run.Count > 0) yield return run;
    }
}
