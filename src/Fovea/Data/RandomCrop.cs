namespace Fovea.Data;

/// <summary>
/// torchvision's <c>RandomCrop(size, padding)</c> with the image's own size: pads every side with
/// <see cref="Padding"/> zero pixels, then crops an H×W window at a uniformly random position.
/// </summary>
public sealed class RandomCrop : Augmentation
{
    public RandomCrop(int padding)
    {
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), $"RandomCrop: padding must not be negative. Received: {padding}");
        Padding = padding;
    }

    public int Padding { get; }

    public override void Apply(Span<float> image, int channels, int height, int width, Rng rng)
    {
        // The window's top-left corner in the padded image, drawn as torchvision does: row, then column.
        int top = rng.NextInt(2 * Padding + 1), left = rng.NextInt(2 * Padding + 1);
        ImageShift.Shift(image, channels, height, width, Padding - top, Padding - left);
    }

    public override string ToString() => $"crop:{Padding}";
}
