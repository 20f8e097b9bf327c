using ScottPlot;

namespace Fovea.Vision;

public static partial class Plots
{
    /// <summary>
    /// Test accuracy against the shift of the test images in pixels, one line per model
    /// (<paramref name="models"/>' values are fractions, one per entry of <paramref name="shifts"/>).
    /// </summary>
    public static void AccuracyUnderShift(string path, IReadOnlyList<int> shifts, IReadOnlyList<Series> models,
        string title = "Accuracy on shifted test images", int width = 900, int height = 560)
    {
        if (models.Count == 0 || shifts.Count == 0) throw new ArgumentException("AccuracyUnderShift: needs at least one model and one shift.");
        foreach (var model in models)
            if (model.Values.Count != shifts.Count)
                throw new ArgumentException($"AccuracyUnderShift: {model.Name} has {model.Values.Count} accuracies for {shifts.Count} shifts.");
        var plot = Chart.Create(title, "shift (pixels, averaged over 8 directions)", "accuracy (%)");
        for (int m = 0; m < models.Count; m++)
        {
            var line = plot.Add.Scatter(shifts.Select(s => (double)s).ToArray(), models[m].Values.Select(a => 100 * a).ToArray(), Chart.Colour(m));
            line.LegendText = models[m].Name;
            line.LineWidth = 2.5f;
            line.MarkerSize = 8;
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Axes.SetLimitsX(shifts.Min() - 0.3, shifts.Max() + 0.3);
        // From a round number below the worst accuracy to 100 %: the gaps between models stay visible.
        double worst = models.Min(m => m.Values.Min()) * 100;
        plot.Axes.SetLimitsY(Math.Max(0, Math.Floor((worst - 5) / 10) * 10), 100);
        plot.ShowLegend(Alignment.LowerLeft);
        Chart.Save(plot, path, width, height);
    }
}
