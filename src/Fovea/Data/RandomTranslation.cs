namespace Fovea.Data;

/// <summary>
/// Shifts the image by a whole number of pixels drawn uniformly from [−<see cref="MaxShift"/>, +<see cref="MaxShift"/>]
/// along each axis, filling the uncovered border with zeros (torchvision's <c>RandomAffine(translate=…)</c> on the pixel grid).
/// </summary>
public sealed class RandomTranslation : Augmentation
{
    public RandomTranslation(int maxShift)
    {
        if (maxShift < 0) throw new ArgumentOutOfRangeException(nameof(maxShift), $"RandomTranslation: the largest shift must not be negative. Received: {maxShift}");
        MaxShift = maxShift;
    }

    public int MaxShift { get; }

    public override void Apply(Span<float> image, int channels, int height, int width, Rng rng)
    {
        // Horizontal first, as RandomAffine draws (tx, ty).
        int dx = rng.NextInt(2 * MaxShift + 1) - MaxShift, dy = rng.NextInt(2 * MaxShift + 1) - MaxShift;
        ImageShift.Shift(image, channels, height, width, dy, dx);
    }

    public override string ToString() => $"translate:{MaxShift}";
}
