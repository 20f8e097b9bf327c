using ScottPlot;

namespace Fovea.Vision;

public static partial class Plots
{
    /// <summary>
    /// Grouped bars on a log scale: one group per entry of <paramref name="groups"/> (models, or a conv
    /// layer and its locally connected and dense twins), one colour per series (parameters, MACs, …),
    /// each bar labelled with its value. Values must be positive.
    /// </summary>
    public static void CostBars(string path, string title, IReadOnlyList<string> groups, IReadOnlyList<Series> series,
        string valueLabel = "count (log scale)", int width = 1000, int height = 600)
    {
        if (groups.Count == 0 || series.Count == 0) throw new ArgumentException("CostBars: needs at least one group and one series.");
        foreach (var s in series)
        {
            if (s.Values.Count != groups.Count) throw new ArgumentException($"CostBars: {s.Name} has {s.Values.Count} values for {groups.Count} groups.");
            if (s.Values.Any(v => !(v > 0) || double.IsInfinity(v))) throw new ArgumentException($"CostBars: {s.Name} has a value that is not positive and finite; a log scale cannot show it.");
        }
        var plot = Chart.Create(title, "", valueLabel);
        Chart.LogLeftAxis(plot);
        double slot = 0.8 / series.Count; // bars of one group share 80 % of the space between group centres
        double top = 0;
        for (int s = 0; s < series.Count; s++)
        {
            var colour = Chart.Colour(s);
            var bars = groups.Select((_, g) => new Bar
            {
                Position = g - 0.4 + slot * (s + 0.5),
                ValueBase = 0, // log10(1): bars grow up from a count of one
                Value = Math.Log10(series[s].Values[g]),
                FillColor = colour,
                Size = slot * 0.92,
                Label = Chart.Count(series[s].Values[g]),
            }).ToList();
            top = Math.Max(top, bars.Max(b => b.Value));
            var plotted = plot.Add.Bars(bars);
            plotted.ValueLabelStyle.FontSize = 12;
            plotted.LegendText = series[s].Name;
        }
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, groups.Count).Select(g => (double)g)], [.. groups]);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 14;
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.SetLimitsX(-0.6, groups.Count - 0.4);
        plot.Axes.SetLimitsY(0, Math.Ceiling(top + 0.6)); // room above the tallest bar for its label
        plot.ShowLegend(Alignment.UpperLeft);
        Chart.Save(plot, path, width, height);
    }
}
