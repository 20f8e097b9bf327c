using System.Globalization;
using System.Text;
using Fovea.Analysis;
using Fovea.Data;
using Fovea.Nn;

namespace Fovea.Vision.Experiments;

/// <summary>
/// Writes the <see cref="ConvolutionBenefits"/> results as a folder: PNG charts (learning curves, accuracy
/// against shift, cnn-small's conv1 filters, a feature map of a shifted image beside the shifted feature
/// map, costs on a log scale) and report.md embedding them with the numbers and the claims checked.
/// </summary>
public static class BenefitsReport
{
    public static string Write(string folder, IReadOnlyList<ModelOutcome> outcomes, ImageDataset test, Normalization normalization, string dataDescription, int shiftImages)
    {
        Directory.CreateDirectory(folder);
        string Png(string name) => Path.Combine(folder, name);

        Plots.LearningCurves(Png("learning-curves.png"), [.. outcomes.Select(o => new LearningCurve(o.Model,
            [.. o.History.Select(h => h.TrainLoss)], [.. o.History.Select(h => h.TestLoss ?? double.NaN)],
            [.. o.History.Select(h => h.TrainAccuracy)], [.. o.History.Select(h => h.TestAccuracy ?? double.NaN)]))]);
        Plots.AccuracyUnderShift(Png("accuracy-under-shift.png"), [.. Enumerable.Range(0, ConvolutionBenefits.MaxShift + 1)],
            [.. outcomes.Select(o => new Series(o.Model, [.. o.UnderShift.Select(s => s.Accuracy)]))]);
        Plots.CostBars(Png("costs.png"), "What each model costs (log scale)", ["parameters", "multiply-adds per image"],
            [.. outcomes.Select(o => new Series(o.Model, [o.Parameters, o.MultiplyAdds]))]);

        var cnn = outcomes.FirstOrDefault(o => o.Model == "cnn-small");
        string? twinsSentence = null;
        if (cnn is not null)
        {
            var conv1 = cnn.Trained.NamedModules().Select(m => m.Module).OfType<Conv2d>().First();
            Plots.FilterGrid(Png("conv1-filters.png"), "cnn-small conv1: the 32 learned 3×3 filters", conv1.Weight.Span,
                conv1.OutChannels, conv1.InChannels / conv1.Groups, conv1.KernelSize.Height, conv1.KernelSize.Width);
            using var batch = DataLoader.Ordered(test.Take(1), 1, normalization, prefetch: false).Epoch(0).Single();
            var comparison = EquivarianceProbe.CompareFeatureMaps(cnn.Trained, batch.Images, ImageTransform.Translation(3, 2), layerIndex: 1, channel: 0);
            Plots.FeatureMaps(Png("shifted-feature-map.png"), "cnn-small conv1+ReLU, channel 0: the map of a shifted image equals the shifted map", comparison);
            var costs = CostModel.Of(cnn.Trained, test.Channels, test.Height, test.Width);
            var twins = costs.Layers.SelectMany(l => l.Convolutions).ToList();
            Plots.CostBars(Png("conv-twins.png"), "cnn-small's convolutions against their twins: parameters (log scale)", [.. twins.Select((t, i) => $"conv{i + 1} (layer {t.Name}): {t.Layer}")],
            [
                new Series("convolution", [.. twins.Select(t => (double)t.Parameters)]),
                new Series("locally connected twin", [.. twins.Select(t => (double)t.LocallyConnectedParameters)]),
                new Series("dense twin", [.. twins.Select(t => (double)t.DenseParameters)]),
            ]);
            twinsSentence = string.Join(" ", CostSentences.Of(costs).Take(2));
        }

        var md = new StringBuilder();
        md.AppendLine("# Why convolutions: the Fovea demo").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Data: {dataDescription}. Every model trained with the same recipe; test accuracy is on the whole test set, the shifted columns on the first {shiftImages} test images moved in 8 directions (the uncovered band black).").AppendLine();
        md.AppendLine(Table(outcomes)).AppendLine();
        md.AppendLine("## Claims, checked on this run").AppendLine();
        foreach (var claim in Claims(outcomes)) md.AppendLine(CultureInfo.InvariantCulture, $"- {(claim.Holds ? "✅" : "❌")} {claim.Text}");
        md.AppendLine();
        md.AppendLine("## Learning curves").AppendLine().AppendLine("![learning curves](learning-curves.png)").AppendLine();
        md.AppendLine("## Accuracy on shifted test images").AppendLine().AppendLine("Translation equivariance of the convolutions, turned into approximate invariance by pooling, keeps the CNNs' accuracy up when objects move; the dense network has to learn each position separately.").AppendLine().AppendLine("![accuracy under shift](accuracy-under-shift.png)").AppendLine();
        md.AppendLine("## Costs").AppendLine().AppendLine("Sparse interactions (few multiply-adds) and parameter sharing (few weights), on a log scale.").AppendLine().AppendLine("![costs](costs.png)").AppendLine();
        if (cnn is not null)
        {
            md.AppendLine("![conv twins](conv-twins.png)").AppendLine();
            if (twinsSentence is not null) md.AppendLine(twinsSentence).AppendLine();
            md.AppendLine("## What conv1 learned").AppendLine().AppendLine("![conv1 filters](conv1-filters.png)").AppendLine();
            md.AppendLine("## Equivariance, pictured").AppendLine().AppendLine("A test image shifted by (3, 2) pixels, the feature map of the shifted image, the shifted feature map, and their difference: zero inside the box that border effects cannot reach.").AppendLine().AppendLine("![shifted feature map](shifted-feature-map.png)").AppendLine();
        }
        string report = Path.Combine(folder, "report.md");
        File.WriteAllText(report, md.ToString());
        return report;
    }

    /// <summary>The side-by-side table, as Markdown.</summary>
    public static string Table(IReadOnlyList<ModelOutcome> outcomes)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| model | parameters | weights (MB) | multiply-adds / image | epochs | training (s) | test accuracy | shifted 2 px | shifted 4 px | first layer, 1-px shift error |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var o in outcomes)
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {o.Model} | {o.Parameters:N0} | {o.WeightBytes / 1e6:F2} | {o.MultiplyAdds:N0} | {o.Epochs} | {o.TrainSeconds:F1} | {o.TestAccuracy:P2} | {o.AccuracyAtShift(2):P2} | {o.AccuracyAtShift(4):P2} | {o.FirstLayerShiftError:G3} ({o.FirstLayer}) |");
        return sb.ToString();
    }

    /// <summary>The issue's claims about this run, each with whether it held.</summary>
    public static IReadOnlyList<(bool Holds, string Text)> Claims(IReadOnlyList<ModelOutcome> outcomes)
    {
        var by = outcomes.ToDictionary(o => o.Model);
        var claims = new List<(bool, string)>();
        if (by.TryGetValue("mlp", out var mlp) && by.TryGetValue("cnn-small", out var cnn))
        {
            double gap = 100 * (cnn.TestAccuracy - mlp.TestAccuracy);
            claims.Add((gap >= 3, $"cnn-small beats mlp by {gap:F2} accuracy points (claim: ≥ 3)."));
            claims.Add((cnn.PointsLostAtShift(2) < mlp.PointsLostAtShift(2),
                $"Under 2-pixel shifts cnn-small loses {cnn.PointsLostAtShift(2):F2} points, mlp {mlp.PointsLostAtShift(2):F2} (claim: the CNN loses fewer)."));
        }
        if (by.TryGetValue("mlp", out mlp) && by.TryGetValue("cnn-tiny", out var tiny))
            claims.Add((tiny.Parameters * 2 < mlp.Parameters && tiny.TestAccuracy > mlp.TestAccuracy,
                $"cnn-tiny has {tiny.Parameters:N0} parameters ({(double)tiny.Parameters / mlp.Parameters:P0} of mlp's {mlp.Parameters:N0}) and reaches {tiny.TestAccuracy:P2} against mlp's {mlp.TestAccuracy:P2} (claim: under half the parameters, and better)."));
        if (by.TryGetValue("lc-small", out var lc) && by.TryGetValue("cnn-small", out cnn))
        {
            double ratio = (double)lc.ConvolutionParameters / cnn.ConvolutionParameters;
            claims.Add((ratio >= 100, $"lc-small's locally connected layers hold {lc.ConvolutionParameters:N0} parameters, {ratio:F0}× cnn-small's convolutions ({cnn.ConvolutionParameters:N0}) for the same windows (claim: ≥ 100×)."));
        }
        return claims;
    }
}
