using Fovea.Analysis;
using Fovea.Nn;

namespace Fovea.Tests.Analysis;

public class EquivarianceProbeTests
{
    private static Tensor Images(int n, int c, int size, ulong seed = 7) => Tensor.Normal(new TensorShape(n, c, size, size), 0f, 1f, new Rng(seed));

    private static ImageTransform[] Shifts(params (int Dx, int Dy)[] shifts) => [.. shifts.Select(s => ImageTransform.Translation(s.Dx, s.Dy))];

    [Fact]
    public void UnpaddedConvStackIsEquivariantToIntegerShiftsInTheInterior()
    {
        var rng = new Rng(1);
        var model = new Sequential(new Conv2d(2, 4, 3, rng: rng), new ReLU(), new Conv2d(4, 6, 3, dilation: 2, rng: rng), new Tanh(), new Conv2d(6, 3, 5, rng: rng));
        using var x = Images(2, 2, 24);
        var report = EquivarianceProbe.Measure(model, x, Shifts((1, 0), (0, 2), (-3, 1), (2, -2)));

        Assert.Equal(5 * 4, report.Results.Count);
        Assert.All(report.Results, r =>
        {
            Assert.Equal(EquivarianceComparison.Equivariance, r.Comparison);
            Assert.True(r.InteriorPositions > 0, $"{r.Name} {r.Transform}: empty interior");
            Assert.True(r.RelativeError < 1e-5, $"{r.Name} {r.Transform}: error {r.RelativeError}");
            Assert.Equal("equivariant", r.Verdict);
            Assert.Empty(r.Notes);
        });
        // conv3 → conv3 dilated 2 → conv5: 3 + 4 + 4 = 11 pixels.
        Assert.Equal((11, 11), report.Layers[^1].ReceptiveField);
    }

    [Fact]
    public void PaddedConvolutionsAreEquivariantAwayFromThePadding()
    {
        var model = Zoo.Create("cnn-small", rng: new Rng(2));
        using var x = Images(2, 1, 28);
        var report = EquivarianceProbe.Measure(model, x, Shifts((4, 0), (-4, 4)));

        var spatial = report.Results.Where(r => r.Comparison == EquivarianceComparison.Equivariance).ToList();
        Assert.Equal(6 * 2, spatial.Count); // conv, relu, pool, conv, relu, pool
        Assert.All(spatial, r => Assert.True(r.RelativeError < 1e-5, $"{r.Name} {r.Transform}: error {r.RelativeError}"));
        // Without excluding the border the padded maps would differ along the edges: the interior is strictly smaller.
        Assert.All(spatial, r => Assert.InRange(r.InteriorPositions, 1, r.Positions - 1));
    }

    [Fact]
    public void StrideTwoPoolingKeepsEvenShiftsExactAndBreaksOddOnes()
    {
        var rng = new Rng(3);
        var model = new Sequential(new Conv2d(1, 4, 3, rng: rng), new ReLU(), new MaxPool2d(2), new Conv2d(4, 4, 3, rng: rng));
        using var x = Images(2, 1, 22);
        var even = EquivarianceProbe.Measure(model, x, Shifts((2, 0), (0, -2), (2, 2), (-4, 0)));
        var odd = EquivarianceProbe.Measure(model, x, Shifts((1, 0), (0, 1), (-3, 0), (1, 1)));

        Assert.All(even.Results, r => Assert.True(r.RelativeError < 1e-5, $"{r.Name} {r.Transform}: error {r.RelativeError}"));
        var afterPool = odd.Results.Where(r => r.Index >= 2).ToList();
        Assert.All(afterPool, r =>
        {
            Assert.True(r.RelativeError > 1e-2, $"{r.Name} {r.Transform}: error {r.RelativeError}");
            Assert.Equal("not equivariant", r.Verdict);
            Assert.Contains(r.Notes, n => n.StartsWith("shift not a multiple of the stride", StringComparison.Ordinal));
            Assert.Equal((2, 2), r.Jump);
        });
        // Before the pooling the jump is 1, so odd shifts are still exact there.
        Assert.All(odd.Results.Where(r => r.Index < 2), r => Assert.True(r.RelativeError < 1e-5));
    }

    [Fact]
    public void TheMlpIsFarFromInvariantToShifts()
    {
        var model = Zoo.Create("mlp", rng: new Rng(4));
        using var x = Images(4, 1, 28);
        var report = EquivarianceProbe.Measure(model, x, Shifts((2, 0), (0, -3), (1, 1)));

        Assert.All(report.Results, r =>
        {
            Assert.Equal(EquivarianceComparison.Invariance, r.Comparison);
            Assert.True(r.RelativeError > 0.5, $"{r.Name} {r.Transform}: error {r.RelativeError}");
            Assert.Equal("not invariant", r.Verdict);
        });
    }

    [Fact]
    public void QuarterTurnsAreReportedAsNotEquivariantForAStandardConvolution()
    {
        var model = new Sequential(new Conv2d(1, 4, 3, rng: new Rng(5)));
        using var x = Images(2, 1, 16);
        var report = EquivarianceProbe.Measure(model, x, [ImageTransform.Rotation(1), ImageTransform.HorizontalFlip]);

        Assert.All(report.Results, r =>
        {
            Assert.True(r.RelativeError > 0.1, $"{r.Transform}: error {r.RelativeError}");
            Assert.False(r.Holds);
            Assert.Equal("not equivariant", r.Verdict);
        });
    }

    [Fact]
    public void AKernelWithTheRotationsSymmetryIsEquivariantToQuarterTurns()
    {
        // The control for the test above: the probe does find rotation equivariance where it exists.
        var conv = new Conv2d(1, 1, 3, rng: new Rng(6));
        float[] symmetric = [1, 2, 1, 2, 4, 2, 1, 2, 1];
        symmetric.CopyTo(conv.Weight.Span);
        using var x = Images(1, 1, 17); // 17 → conv3 → 15 → pool3 → 5: a grid centred on the image
        var report = EquivarianceProbe.Measure(new Sequential(conv, new ReLU(), new MaxPool2d(3)), x,
            [ImageTransform.Rotation(1), ImageTransform.Rotation(2), ImageTransform.Rotation(3), ImageTransform.VerticalFlip]);
        Assert.All(report.Results, r => Assert.True(r.RelativeError < 1e-5, $"{r.Name} {r.Transform}: error {r.RelativeError}"));
        Assert.All(report.Results, r => Assert.Empty(r.Notes));
    }

    [Fact]
    public void AnAsymmetricGridIsFlaggedUnderFlips()
    {
        // 16 → conv3 → 14 → pool 3 (floor) → 4 windows covering pixels 1…12 of 0…15: not centred.
        var model = new Sequential(new Conv2d(1, 2, 3, rng: new Rng(8)), new MaxPool2d(3));
        using var x = Images(1, 1, 16);
        var report = EquivarianceProbe.Measure(model, x, [ImageTransform.HorizontalFlip]);
        Assert.Empty(report.Results[0].Notes);
        Assert.Contains(report.Results[1].Notes, n => n.Contains("not symmetric", StringComparison.Ordinal));
    }

    [Fact]
    public void ALayerWhoseFieldCoversTheWholeImageHasNoInteriorUnderShifts()
    {
        var model = new Sequential(new Conv2d(1, 2, 3, padding: 1, rng: new Rng(9)), new GlobalAvgPool2d());
        using var x = Images(1, 1, 8);
        var result = EquivarianceProbe.Measure(model, x, Shifts((1, 0))).Results[1];
        Assert.Null(result.RelativeError);
        Assert.Equal("no interior", result.Verdict);
        Assert.Equal((8, 8), result.Jump);
    }

    [Fact]
    public void ResidualBlocksAreOneLayerAndKeepEquivarianceForShiftsOfTheirStride()
    {
        var model = new Sequential(new Conv2d(1, 16, 3, padding: 1, rng: new Rng(10)), new BasicBlock(16, 32, stride: 2, rng: new Rng(11)));
        using var x = Images(1, 1, 20);
        var report = EquivarianceProbe.Measure(model, x, Shifts((2, 0), (0, 2)));
        Assert.Equal(["0", "1"], report.Layers.Select(l => l.Name));
        Assert.All(report.Results, r => Assert.True(r.RelativeError < 1e-5, $"{r.Name} {r.Transform}: error {r.RelativeError}"));
        Assert.Equal((2, 2), report.Layers[1].Jump);
    }

    [Fact]
    public void MisuseThrowsNamingTheShapes()
    {
        var model = new Sequential(new Conv2d(1, 2, 3, rng: new Rng(1)));
        using var rectangle = Tensor.Zeros(1, 1, 8, 9);
        var e = Assert.Throws<ArgumentException>(() => EquivarianceProbe.Measure(model, rectangle, [ImageTransform.Rotation(1)]));
        Assert.Contains("[1, 1, 8, 9]", e.Message);
        using var flat = Tensor.Zeros(1, 64);
        Assert.Throws<ArgumentException>(() => EquivarianceProbe.Measure(model, flat, [ImageTransform.HorizontalFlip]));
    }

    [Fact]
    public void FeatureMapComparisonShowsBothWaysRoundWithTheInterior()
    {
        var model = Zoo.Create("cnn-tiny", rng: new Rng(12));
        using var x = Images(1, 1, 28);
        var comparison = EquivarianceProbe.CompareFeatureMaps(model, x, ImageTransform.Translation(3, -2), layerIndex: 0, channel: 5);
        Assert.Equal(ImageTransform.Translation(3, -2), comparison.FeatureTransform);
        Assert.Equal(28, comparison.MapOfTransformed.GetLength(0));
        // Interior of a padded conv3 under a (3, −2) shift: columns 4…26, rows 1…24.
        Assert.True(comparison.Interior[1, 4] && comparison.Interior[24, 26]);
        Assert.False(comparison.Interior[0, 4] || comparison.Interior[1, 3] || comparison.Interior[25, 26] || comparison.Interior[24, 27]);
        Assert.Equal(comparison.TransformedMap[10, 10], comparison.MapOfTransformed[10, 10], 1e-5f);
        Assert.Equal(x[0, 0, 10, 10], comparison.TransformedImage[8, 13]);
    }
}
