namespace Fovea.Data;

/// <summary>
/// Turns pixel bytes into network inputs: x = (pixel/255 − mean[c]) / std[c]. One mean and std
/// apply to every channel; otherwise there is one per channel.
/// </summary>
public sealed class Normalization
{
    private readonly float[] _mean, _std;

    public Normalization(float[] mean, float[] std)
    {
        if (mean.Length == 0 || mean.Length != std.Length)
            throw new ArgumentException($"Normalization: needs as many means as standard deviations, at least one. Received: {mean.Length} and {std.Length}");
        if (std.Any(s => !(s > 0 && float.IsFinite(s))) || mean.Any(m => !float.IsFinite(m)))
            throw new ArgumentException($"Normalization: means must be finite and standard deviations positive. Received: mean [{string.Join(", ", mean)}], std [{string.Join(", ", std)}]");
        _mean = [.. mean];
        _std = [.. std];
    }

    /// <summary>Pixels/255 only: inputs in [0, 1].</summary>
    public static Normalization PixelsOnly { get; } = new([0f], [1f]);

    /// <summary>Fashion-MNIST training set statistics (of pixels/255).</summary>
    public static Normalization FashionMnist { get; } = new([0.2860f], [0.3530f]);

    /// <summary>CIFAR-10 training set statistics per channel (R, G, B), of pixels/255.</summary>
    public static Normalization Cifar10 { get; } = new([0.4914f, 0.4822f, 0.4465f], [0.2470f, 0.2435f, 0.2616f]);

    public IReadOnlyList<float> Mean => _mean;
    public IReadOnlyList<float> Std => _std;

    /// <summary>The per-channel mean and standard deviation of pixels/255 over a whole data set.</summary>
    public static Normalization Compute(ImageDataset dataset)
    {
        int plane = dataset.Height * dataset.Width;
        var sum = new long[dataset.Channels];
        var sumOfSquares = new long[dataset.Channels];
        for (int i = 0; i < dataset.Count; i++)
        {
            var image = dataset.Image(i);
            for (int c = 0; c < dataset.Channels; c++)
                foreach (byte p in image.Slice(c * plane, plane))
                {
                    sum[c] += p;
                    sumOfSquares[c] += p * p;
                }
        }
        double n = (double)dataset.Count * plane;
        var mean = sum.Select(s => s / n / 255).ToArray();
        var std = sumOfSquares.Select((q, c) => Math.Sqrt(Math.Max(q / n / (255.0 * 255) - mean[c] * mean[c], 0))).ToArray();
        return new Normalization([.. mean.Select(m => (float)m)], [.. std.Select(s => (float)Math.Max(s, 1e-6))]);
    }

    /// <summary>Throws unless this normalisation fits images with <paramref name="channels"/> channels.</summary>
    public void CheckChannels(int channels)
    {
        if (_mean.Length != 1 && _mean.Length != channels)
            throw new ArgumentException($"Normalization has {_mean.Length} channel statistics; images have {channels} channels.");
    }

    /// <summary>Normalises one C×H×W image whose values are already pixels/255, in place.</summary>
    internal void Apply(Span<float> image, int channels)
    {
        int plane = image.Length / channels;
        for (int c = 0; c < channels; c++)
        {
            float mean = _mean[_mean.Length == 1 ? 0 : c], std = _std[_std.Length == 1 ? 0 : c];
            foreach (ref float x in image.Slice(c * plane, plane)) x = (x - mean) / std;
        }
    }

    public override string ToString() => $"mean [{string.Join(", ", _mean)}], std [{string.Join(", ", _std)}]";
}
