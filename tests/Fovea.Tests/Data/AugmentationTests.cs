using Fovea.Data;

namespace Fovea.Tests.Data;

public class AugmentationTests
{
    /// <summary>Values 1, 2, 3, … so that no pixel is zero and every pixel is distinguishable.</summary>
    private static float[] Ramp(int length) => [.. Enumerable.Range(1, length).Select(i => (float)i)];

    /// <summary>Naive twin of the shift: output (y, x) = input (y − dy, x − dx), zero outside.</summary>
    private static float[] Shifted(float[] image, int channels, int height, int width, int dy, int dx)
    {
        var result = new float[image.Length];
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    int sy = y - dy, sx = x - dx;
                    if (sy >= 0 && sy < height && sx >= 0 && sx < width)
                        result[(c * height + y) * width + x] = image[(c * height + sy) * width + sx];
                }
        return result;
    }

    [Fact]
    public void ShiftMatchesTheNaiveTwinForEveryOffset()
    {
        const int c = 2, h = 3, w = 5;
        for (int dy = -4; dy <= 4; dy++)
            for (int dx = -6; dx <= 6; dx++)
            {
                var image = Ramp(c * h * w);
                ImageShift.Shift(image, c, h, w, dy, dx);
                Assert.Equal(Shifted(Ramp(c * h * w), c, h, w, dy, dx), image);
            }
    }

    /// <summary>The (dy, dx) that turns <paramref name="original"/> into <paramref name="result"/>, or fails.</summary>
    private static (int Dy, int Dx) FindShift(float[] original, float[] result, int c, int h, int w, int max)
    {
        for (int dy = -max; dy <= max; dy++)
            for (int dx = -max; dx <= max; dx++)
                if (Shifted(original, c, h, w, dy, dx).SequenceEqual(result)) return (dy, dx);
        throw new Xunit.Sdk.XunitException("the result is not a zero-filled shift of the image within the range");
    }

    [Theory]
    [InlineData("crop")]
    [InlineData("translate")]
    public void CropAndTranslationShiftContentWithZeroFillKeepingTheSize(string kind)
    {
        const int c = 2, h = 5, w = 6, p = 2;
        Augmentation augmentation = kind == "crop" ? new RandomCrop(p) : new RandomTranslation(p);
        var seen = new HashSet<(int, int)>();
        for (ulong seed = 0; seed < 300; seed++)
        {
            var image = Ramp(c * h * w);
            augmentation.Apply(image, c, h, w, new Rng(seed));
            seen.Add(FindShift(Ramp(c * h * w), image, c, h, w, p));
        }
        Assert.Equal((2 * p + 1) * (2 * p + 1), seen.Count); // every shift in [−p, p]² occurs, none beyond
    }

    [Fact]
    public void CropDrawsTheWindowAsTorchvisionDoes()
    {
        var image = Ramp(16);
        new RandomCrop(1).Apply(image, 1, 4, 4, new Rng(7));
        var draws = new Rng(7);
        int top = draws.NextInt(3), left = draws.NextInt(3);
        Assert.Equal(Shifted(Ramp(16), 1, 4, 4, 1 - top, 1 - left), image);
    }

    [Fact]
    public void FlipMirrorsEachRowOfEachChannel()
    {
        var image = Ramp(12); // 2 channels of 2×3
        new HorizontalFlip(probability: 1).Apply(image, 2, 2, 3, new Rng(1));
        Assert.Equal([3f, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10], image);

        var untouched = Ramp(12);
        new HorizontalFlip(probability: 0).Apply(untouched, 2, 2, 3, new Rng(1));
        Assert.Equal(Ramp(12), untouched);
    }

    [Fact]
    public void FlipHappensAboutHalfTheTime()
    {
        int flipped = Enumerable.Range(0, 400).Count(seed =>
        {
            var image = Ramp(2);
            new HorizontalFlip().Apply(image, 1, 1, 2, new Rng((ulong)seed));
            return image[0] == 2;
        });
        Assert.InRange(flipped, 150, 250);
    }

    [Fact]
    public void ErasingZeroesOneRectangleWithinTheBoundsInEveryChannel()
    {
        const int c = 3, h = 20, w = 16;
        int erasedImages = 0;
        for (ulong seed = 0; seed < 200; seed++)
        {
            var image = Ramp(c * h * w);
            new RandomErasing().Apply(image, c, h, w, new Rng(seed));
            var zeros = Enumerable.Range(0, image.Length).Where(i => image[i] == 0).ToArray();
            if (zeros.Length == 0) continue;
            erasedImages++;
            var ys = zeros.Select(i => i / w % h).ToArray();
            var xs = zeros.Select(i => i % w).ToArray();
            int rh = ys.Max() - ys.Min() + 1, rw = xs.Max() - xs.Min() + 1;
            Assert.Equal(c * rh * rw, zeros.Length); // a full rectangle, the same in every channel
            Assert.True(rh < h && rw < w, $"rectangle {rh}×{rw} must be smaller than the image");
            Assert.InRange(rh * rw, 0.02 * h * w * 0.5, 0.33 * h * w * 1.5); // the scale range, give or take rounding
            for (int i = 0; i < image.Length; i++)
                if (image[i] != 0) Assert.Equal(i + 1, image[i]); // everything else untouched
        }
        Assert.InRange(erasedImages, 70, 130); // p = 0.5
    }

    [Fact]
    public void ErasingWithProbabilityZeroNeverErases()
    {
        var image = Ramp(64);
        new RandomErasing(probability: 0).Apply(image, 1, 8, 8, new Rng(3));
        Assert.Equal(Ramp(64), image);
    }

    [Fact]
    public void ParsesTheCommandLineForm()
    {
        var list = Augmentation.Parse(" crop:2, flip ,translate:3,erase, flip:0.25,ERASE:1");
        Assert.Equal("crop:2,flip,translate:3,erase,flip:0.25,erase:1", Augmentation.Format(list));
        Assert.Equal(2, Assert.IsType<RandomCrop>(list[0]).Padding);
        Assert.Equal(3, Assert.IsType<RandomTranslation>(list[2]).MaxShift);
        var erase = Assert.IsType<RandomErasing>(list[3]);
        Assert.Equal((0.5f, 0.02f, 0.33f, 0.3f, 3.3f, 0f), (erase.Probability, erase.MinScale, erase.MaxScale, erase.MinRatio, erase.MaxRatio, erase.Value));
        Assert.Empty(Augmentation.Parse("none"));
        Assert.Empty(Augmentation.Parse(""));
        Assert.Equal("none", Augmentation.Format([]));
    }

    [Theory]
    [InlineData("flip,rotate:10", "unknown augmentation 'rotate:10'")]
    [InlineData("crop", "crop needs the padding in pixels, e.g. crop:2")]
    [InlineData("translate:x", "translate:x: the largest shift must be a whole number of pixels")]
    [InlineData("crop:-1", "crop:-1: the padding must be a whole number of pixels")]
    [InlineData("flip:maybe", "flip:maybe: the probability must be a number in [0, 1]")]
    [InlineData("erase:2", "erase:2: the probability must be a number in [0, 1]")]
    public void BadSpecificationsSayWhatIsWrongAndWhatIsKnown(string spec, string problem)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Augmentation.Parse(spec));
        Assert.StartsWith($"Augmentations \"{spec}\": ", e.Message);
        Assert.Contains(problem, e.Message);
        Assert.Contains("Known: crop:P", e.Message);
    }
}
