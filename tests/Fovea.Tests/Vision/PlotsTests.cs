using Fovea.Analysis;
using Fovea.Data;
using Fovea.Nn;
using Fovea.Tests.Support;
using Fovea.Vision;
using SkiaSharp;

namespace Fovea.Tests.Vision;

/// <summary>
/// Each plot decodes back as a PNG of the promised size with something drawn on it. To look at them,
/// set FOVEA_PLOT_DIR to a folder: the PNGs are then kept there.
/// </summary>
public sealed class PlotsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    private string Output(string name) =>
        Environment.GetEnvironmentVariable("FOVEA_PLOT_DIR") is { Length: > 0 } keep
            ? Path.Combine(Directory.CreateDirectory(keep).FullName, name)
            : _temp.File(name);

    public void Dispose() => _temp.Dispose();

    /// <summary>Decodes <paramref name="path"/>, checks its size, and that it is not blank (a share of the pixels is not white).</summary>
    private static void AssertPng(string path, int width, int height)
    {
        Assert.False(File.Exists(path + ".tmp"));
        using var bitmap = SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        int drawn = 0;
        for (int y = 0; y < height; y += 3)
            for (int x = 0; x < width; x += 3)
                if (bitmap.GetPixel(x, y) != SKColors.White) drawn++;
        Assert.InRange(drawn, width * height / 9 / 50, int.MaxValue);
    }

    private static readonly string[] Models = ["mlp", "lc-small", "cnn-small", "cnn-tiny"];

    [Fact]
    public void LearningCurvesShowLossAndAccuracyPerEpochForSeveralModels()
    {
        string path = Output("learning-curves.png");
        var curves = Models.Select((m, i) => new LearningCurve(m,
            [.. Enumerable.Range(1, 6).Select(e => 0.9 / e + 0.05 * i)], [.. Enumerable.Range(1, 6).Select(e => 1.0 / e + 0.08 * i + 0.1)],
            [.. Enumerable.Range(1, 6).Select(e => 0.95 - 0.3 / e - 0.02 * i)], [.. Enumerable.Range(1, 6).Select(e => 0.92 - 0.3 / e - 0.03 * i)])).ToList();
        Plots.LearningCurves(path, curves, 1400, 560);
        AssertPng(path, 1400, 560);
    }

    [Fact]
    public void AccuracyUnderShiftHasOneLinePerModel()
    {
        string path = Output("accuracy-under-shift.png");
        int[] shifts = [0, 1, 2, 3, 4];
        var series = new[]
        {
            new Series("mlp", [0.88, 0.70, 0.42, 0.25, 0.17]),
            new Series("lc-small", [0.87, 0.80, 0.62, 0.45, 0.30]),
            new Series("cnn-small", [0.91, 0.90, 0.85, 0.74, 0.60]),
            new Series("cnn-tiny", [0.89, 0.88, 0.82, 0.70, 0.55]),
        };
        Plots.AccuracyUnderShift(path, shifts, series, width: 900, height: 560);
        AssertPng(path, 900, 560);
        Assert.Throws<ArgumentException>(() => Plots.AccuracyUnderShift(path, [0, 1], series));
    }

    [Fact]
    public void EquivarianceErrorsPlotAProbeReportPerLayerAndTransformation()
    {
        string path = Output("equivariance-errors.png");
        var model = Zoo.Create("cnn-small", rng: new Rng(1));
        using var x = Tensor.Normal(new TensorShape(2, 1, 28, 28), 0f, 1f, new Rng(2));
        var report = EquivarianceProbe.Measure(model, x, EquivarianceProbe.StandardTransforms(2));
        Plots.EquivarianceErrors(path, "cnn-small (random weights): relative error per layer", report, 1200, 620);
        AssertPng(path, 1200, 620);
    }

    [Fact]
    public void CostBarsUseALogScaleForCountsThatSpanMagnitudes()
    {
        string path = Output("cost-bars.png");
        Plots.CostBars(path, "Parameters and multiply-adds per image", Models,
            [new Series("parameters", [235_146, 3_322_314, 421_642, 51_946]), new Series("MACs per image", [234_752, 3_297_984, 4_050_432, 1_129_056])],
            width: 1000, height: 600);
        AssertPng(path, 1000, 600);
        Assert.Throws<ArgumentException>(() => Plots.CostBars(path, "zero", ["a"], [new Series("p", [0])]));
    }

    [Fact]
    public void FilterGridDrawsEveryFilterOfConv1()
    {
        string path = Output("conv1-filters.png");
        var conv = new Conv2d(1, 32, 3, rng: new Rng(3));
        var (width, height) = Plots.FilterGrid(path, "conv1: 32 filters, 3×3 (random initialisation)", conv.Weight.Span, 32, 1, 3, 3);
        AssertPng(path, width, height);
        // 32 tiles in rows of 8 (the square-ish default): 4 rows.
        Assert.Equal(48 + 4 * (56 + 7) + 7 + 22, height);

        string rgb = Output("conv1-filters-rgb.png");
        var colour = new Conv2d(3, 16, 5, rng: new Rng(4));
        var size = Plots.FilterGrid(rgb, "conv1 of a 3-channel model: 16 filters, 5×5", colour.Weight.Span, 16, 3, 5, 5);
        AssertPng(rgb, size.Width, size.Height);
    }

    [Fact]
    public void FeatureMapsShowTheShiftedImagesMapBesideTheShiftedMap()
    {
        string path = Output("feature-maps.png");
        string sample = DataLocator.FindSample([AppContext.BaseDirectory]) ?? throw new Xunit.Sdk.XunitException("no bundled Fashion-MNIST sample");
        var test = MnistFolder.Load(sample, train: false);
        using var image = Tensor.Empty(1, 1, 28, 28);
        for (int k = 0; k < 784; k++) image.Span[k] = test.Image(0)[k] / 255f;
        var comparison = EquivarianceProbe.CompareFeatureMaps(Zoo.Create("cnn-small", rng: new Rng(5)), image, ImageTransform.Translation(3, 2), layerIndex: 1, channel: 3);
        var (width, height) = Plots.FeatureMaps(path, "conv1 + ReLU, channel 3: shifted by (3, 2) pixels", comparison);
        AssertPng(path, width, height);
        Assert.Equal((4 * 240 + 5 * 24, 52 + 240 + 44 + 34), (width, height));
    }
}
