using Fovea.Analysis;
using Fovea.Data;
using Fovea.Nn;

namespace Fovea.Tests.Analysis;

public class EquivarianceTransformTests
{
    // One 3×3 image: 1 2 3 / 4 5 6 / 7 8 9.
    private static Tensor Grid() => Tensor.FromArray([1, 2, 3, 4, 5, 6, 7, 8, 9], 1, 1, 3, 3);

    [Theory]
    [InlineData(1, new float[] { 3, 6, 9, 2, 5, 8, 1, 4, 7 })] // counterclockwise, as torch.rot90(x, 1, (2, 3))
    [InlineData(2, new float[] { 9, 8, 7, 6, 5, 4, 3, 2, 1 })]
    [InlineData(3, new float[] { 7, 4, 1, 8, 5, 2, 9, 6, 3 })]
    [InlineData(4, new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 })]
    public void RotationsTurnCounterclockwise(int quarterTurns, float[] expected)
    {
        using var x = Grid();
        using var y = ImageTransform.Rotation(quarterTurns).Apply(x);
        Assert.Equal(expected, y.ToArray());
    }

    [Fact]
    public void FlipsMirrorTheirAxis()
    {
        using var x = Grid();
        using var h = ImageTransform.HorizontalFlip.Apply(x);
        using var v = ImageTransform.VerticalFlip.Apply(x);
        Assert.Equal([3f, 2, 1, 6, 5, 4, 9, 8, 7], h.ToArray());
        Assert.Equal([7f, 8, 9, 4, 5, 6, 1, 2, 3], v.ToArray());
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(-3, 0)]
    [InlineData(1, -4)]
    [InlineData(9, 9)]
    public void TranslationsMoveContentLikeTheLoadersShiftAndFillWithZeros(int dx, int dy)
    {
        using var x = Tensor.Normal(new TensorShape(2, 3, 7, 9), 0f, 1f, new Rng(1));
        using var y = ImageTransform.Translation(dx, dy).Apply(x);
        var expected = x.ToArray();
        for (int image = 0; image < 2; image++) ImageShift.Shift(expected.AsSpan(image * 3 * 63, 3 * 63), 3, 7, 9, dy, dx);
        Assert.Equal(expected, y.ToArray());
    }

    [Fact]
    public void ContentRegionIsWhatTheShiftDidNotZeroFill()
    {
        Assert.Equal((0, 24, 3, 27), ImageTransform.Translation(3, -3).ContentRegion(28, 28));
        Assert.Equal((0, 27, 0, 27), ImageTransform.Rotation(1).ContentRegion(28, 28));
    }

    [Fact]
    public void OnFeatureMapDividesShiftsByTheJumpAndSaysWhenItDoesNotDivide()
    {
        Assert.Equal((ImageTransform.Translation(2, -1), true), ImageTransform.Translation(4, -2).OnFeatureMap(2, 2));
        Assert.Equal((ImageTransform.Translation(1, 0), false), ImageTransform.Translation(1, 0).OnFeatureMap(2, 2));
        Assert.Equal((ImageTransform.Translation(-1, 1), false), ImageTransform.Translation(-3, 3).OnFeatureMap(4, 4));
        Assert.Equal((ImageTransform.HorizontalFlip, true), ImageTransform.HorizontalFlip.OnFeatureMap(4, 4));
    }

    [Fact]
    public void NamesReadAsTheyAreShown()
    {
        Assert.Equal("shift (2, -1)", ImageTransform.Translation(2, -1).Name);
        Assert.Equal("rotate 270°", ImageTransform.Rotation(-1).Name);
        Assert.Equal("flip left-right", ImageTransform.HorizontalFlip.Name);
    }

    [Fact]
    public void ReceptiveFieldsFollowTheStandardRecurrence()
    {
        // cnn-small: conv3 p1 → (3, 1, −1); pool2 → (4, 2, −1); conv3 p1 → (8, 2, −3); pool2 → (10, 4, −3).
        var model = Zoo.Create("cnn-small", rng: new Rng(1));
        var field = ReceptiveField.Identity;
        var expected = new[] { (3, 1, -1), (3, 1, -1), (4, 2, -1), (8, 2, -3), (8, 2, -3), (10, 4, -3) };
        int size = 28;
        foreach (var (layer, (s, j, start)) in EquivarianceProbe.Layers(model).Take(6).Zip(expected))
        {
            field = field.Through(layer.Layer, size, size)!;
            Assert.Equal(AxisField.FromFirst(s, j, start), field.Width);
            Assert.Equal(field.Width, field.Height);
        }
        Assert.Equal((1, 5), AxisField.FromFirst(10, 4, -3).Inside(0, 27, 7)); // positions 0 and 6 see the padding
    }
}
