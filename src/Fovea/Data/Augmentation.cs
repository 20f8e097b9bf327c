using System.Globalization;

namespace Fovea.Data;

/// <summary>
/// A random change to one image, applied by the loader to training images before normalisation,
/// on values pixels/255 (so 0 is black). Each image gets its own <see cref="Rng"/> seeded from
/// (loader seed, epoch, image index), so the result does not depend on batching, threads or prefetch.
/// </summary>
public abstract class Augmentation
{
    /// <summary>Changes <paramref name="image"/> (C×H×W, row-major) in place.</summary>
    public abstract void Apply(Span<float> image, int channels, int height, int width, Rng rng);

    /// <summary>The form <see cref="Parse"/> reads back, e.g. <c>crop:2</c>.</summary>
    public abstract override string ToString();

    private const string Known = "crop:P (pad P pixels, crop back), flip[:p], translate:T (±T pixels), erase[:p]";

    /// <summary>
    /// Reads a comma-separated list such as <c>crop:2,flip,translate:2,erase</c>; empty or <c>none</c> gives no augmentation.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown name or a bad argument, named in the message.</exception>
    public static Augmentation[] Parse(string spec)
    {
        if (string.IsNullOrWhiteSpace(spec) || spec.Trim().Equals("none", StringComparison.OrdinalIgnoreCase)) return [];
        return [.. spec.Split(',').Select(item => ParseOne(item.Trim(), spec))];
    }

    /// <summary>The list in the form <see cref="Parse"/> reads, or <c>none</c>.</summary>
    public static string Format(IEnumerable<Augmentation> augmentations)
    {
        var text = string.Join(",", augmentations);
        return text.Length == 0 ? "none" : text;
    }

    private static Augmentation ParseOne(string item, string spec)
    {
        int colon = item.IndexOf(':');
        string name = (colon < 0 ? item : item[..colon]).Trim().ToLowerInvariant();
        string? argument = colon < 0 ? null : item[(colon + 1)..].Trim();
        try
        {
            return name switch
            {
                "crop" => new RandomCrop(Pixels(argument, "crop", "the padding")),
                "translate" => new RandomTranslation(Pixels(argument, "translate", "the largest shift")),
                "flip" => argument is null ? new HorizontalFlip() : new HorizontalFlip(Probability(argument, "flip")),
                "erase" => argument is null ? new RandomErasing() : new RandomErasing(Probability(argument, "erase")),
                _ => throw new ArgumentException($"unknown augmentation '{item}'"),
            };
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Augmentations \"{spec}\": {e.Message.TrimEnd('.')}. Known: {Known}.", e);
        }
    }

    private static int Pixels(string? argument, string name, string what)
    {
        if (argument is null) throw new ArgumentException($"{name} needs {what} in pixels, e.g. {name}:2");
        if (!int.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out int pixels))
            throw new ArgumentException($"{name}:{argument}: {what} must be a whole number of pixels");
        return pixels;
    }

    private static float Probability(string argument, string name) =>
        float.TryParse(argument, NumberStyles.Float, CultureInfo.InvariantCulture, out float p) && p >= 0 && p <= 1
            ? p
            : throw new ArgumentException($"{name}:{argument}: the probability must be a number in [0, 1]");

    private protected static void CheckProbability(float p, string name)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), $"{name}: probability must be in [0, 1]. Received: {p}");
    }

    private protected static string Number(float value) => value.ToString(CultureInfo.InvariantCulture);
}
