namespace Fovea.Data;

/// <summary>
/// torchvision's <c>RandomErasing</c> with its defaults: with probability <see cref="Probability"/>,
/// picks a rectangle covering a fraction in [<see cref="MinScale"/>, <see cref="MaxScale"/>] of the
/// image with aspect ratio (h/w) log-uniform in [<see cref="MinRatio"/>, <see cref="MaxRatio"/>]
/// (up to ten tries for one that fits), and sets it to <see cref="Value"/> in every channel.
/// </summary>
public sealed class RandomErasing : Augmentation
{
    public RandomErasing(float probability = 0.5f, float minScale = 0.02f, float maxScale = 0.33f, float minRatio = 0.3f, float maxRatio = 3.3f, float value = 0f)
    {
        CheckProbability(probability, "RandomErasing");
        if (!(minScale > 0 && minScale <= maxScale && maxScale <= 1))
            throw new ArgumentOutOfRangeException(nameof(minScale), $"RandomErasing: scale must satisfy 0 < min ≤ max ≤ 1. Received: ({minScale}, {maxScale})");
        if (!(minRatio > 0 && minRatio <= maxRatio && float.IsFinite(maxRatio)))
            throw new ArgumentOutOfRangeException(nameof(minRatio), $"RandomErasing: ratio must satisfy 0 < min ≤ max. Received: ({minRatio}, {maxRatio})");
        (Probability, MinScale, MaxScale, MinRatio, MaxRatio, Value) = (probability, minScale, maxScale, minRatio, maxRatio, value);
    }

    public float Probability { get; }
    public float MinScale { get; }
    public float MaxScale { get; }
    public float MinRatio { get; }
    public float MaxRatio { get; }
    public float Value { get; }

    private const int Attempts = 10;

    public override void Apply(Span<float> image, int channels, int height, int width, Rng rng)
    {
        if (rng.NextFloat() >= Probability) return;
        double area = height * width, logMin = Math.Log(MinRatio), logMax = Math.Log(MaxRatio);
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            double eraseArea = area * (MinScale + (MaxScale - MinScale) * rng.NextDouble());
            double aspect = Math.Exp(logMin + (logMax - logMin) * rng.NextDouble());
            // Math.Round rounds halves to even, as Python's round() does in torchvision.
            int h = (int)Math.Round(Math.Sqrt(eraseArea * aspect)), w = (int)Math.Round(Math.Sqrt(eraseArea / aspect));
            if (!(h < height && w < width)) continue;
            int top = rng.NextInt(height - h + 1), left = rng.NextInt(width - w + 1);
            for (int c = 0; c < channels; c++)
                for (int y = top; y < top + h; y++)
                    image.Slice((c * height + y) * width + left, w).Fill(Value);
            return;
        }
    }

    public override string ToString() => Probability == 0.5f ? "erase" : $"erase:{Number(Probability)}";
}
