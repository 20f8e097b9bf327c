namespace Fovea.Data;

/// <summary>Mirrors the image left–right with probability <see cref="Probability"/> (torchvision's <c>RandomHorizontalFlip</c>).</summary>
public sealed class HorizontalFlip : Augmentation
{
    public HorizontalFlip(float probability = 0.5f)
    {
        CheckProbability(probability, "HorizontalFlip");
        Probability = probability;
    }

    public float Probability { get; }

    public override void Apply(Span<float> image, int channels, int height, int width, Rng rng)
    {
        if (rng.NextFloat() >= Probability) return;
        for (int row = 0; row < channels * height; row++) image.Slice(row * width, width).Reverse();
    }

    public override string ToString() => Probability == 0.5f ? "flip" : $"flip:{Number(Probability)}";
}
