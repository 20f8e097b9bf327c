using ScottPlot;

namespace Fovea.Vision;

/// <summary>PNG charts and pictures of models, from plain numbers and arrays. Every function writes one PNG file of the size it is given.</summary>
public static partial class Plots
{
    /// <summary>
    /// Loss (left) and accuracy (right) per epoch, one colour per model: training as a solid line,
    /// test as a dashed line with markers.
    /// </summary>
    public static void LearningCurves(string path, IReadOnlyList<LearningCurve> models, int width = 1400, int height = 560)
    {
        if (models.Count == 0) throw new ArgumentException("LearningCurves: needs at least one model.", nameof(models));
        var loss = Chart.Create("Loss per epoch", "epoch", "cross-entropy loss");
        var accuracy = Chart.Create("Accuracy per epoch", "epoch", "accuracy (%)");
        for (int m = 0; m < models.Count; m++)
        {
            var model = models[m];
            var colour = Chart.Colour(m);
            Line(loss, model.TrainLoss, colour, $"{model.Model} train", dashed: false);
            Line(loss, model.TestLoss, colour, $"{model.Model} test", dashed: true);
            Line(accuracy, [.. model.TrainAccuracy.Select(a => 100 * a)], colour, $"{model.Model} train", dashed: false);
            Line(accuracy, [.. model.TestAccuracy.Select(a => 100 * a)], colour, $"{model.Model} test", dashed: true);
        }
        loss.ShowLegend(Alignment.UpperRight);
        accuracy.ShowLegend(Alignment.LowerRight);
        int epochs = models.Max(m => Math.Max(m.TrainLoss.Count, m.TestLoss.Count));
        foreach (var plot in new[] { loss, accuracy })
        {
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            plot.Axes.SetLimitsX(0.5, Math.Max(epochs, 1) + 0.5);
        }
        using var canvas = new PngCanvas(width, height);
        Chart.Draw(loss, canvas, 0, 0, width / 2, height);
        Chart.Draw(accuracy, canvas, width / 2, 0, width - width / 2, height);
        canvas.Save(path);
    }

    /// <summary>Values at epochs 1, 2, …; nothing when the list is empty.</summary>
    private static void Line(Plot plot, IReadOnlyList<double> values, Color colour, string label, bool dashed)
    {
        if (values.Count == 0) return;
        var line = plot.Add.Scatter(Enumerable.Range(1, values.Count).Select(e => (double)e).ToArray(), values.ToArray(), colour);
        line.LegendText = label;
        line.LineWidth = 2;
        // Test points get round markers, training points small squares: a one-epoch run still shows both.
        line.MarkerSize = dashed ? 6 : 5;
        line.MarkerShape = dashed ? MarkerShape.FilledCircle : MarkerShape.FilledSquare;
        if (dashed) line.LinePattern = LinePattern.Dashed;
    }
}
