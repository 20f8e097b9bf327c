namespace Fovea.Data;

/// <summary>
/// Images held in memory as bytes (N×C×H×W, 0–255), with an integer label per image and the class
/// names. Bytes rather than floats: a quarter of the memory, and the loader converts (and augments)
/// only the images of the batch it is preparing.
/// </summary>
public sealed class ImageDataset
{
    private readonly byte[] _pixels;
    private readonly int[] _labels;

    /// <param name="pixels">Count·C·H·W bytes, image after image, each image channel-major (CHW).</param>
    /// <param name="labels">One class index per image, in [0, classNames.Count).</param>
    /// <param name="channels">C.</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="classNames">One name per class.</param>
    /// <param name="source">Where the images came from (a folder), for messages.</param>
    public ImageDataset(byte[] pixels, int[] labels, int channels, int height, int width, IReadOnlyList<string> classNames, string source)
    {
        if (channels < 1 || height < 1 || width < 1) throw new ArgumentException($"ImageDataset: image size must be positive. Received: {channels}×{height}×{width}");
        if (classNames.Count < 1) throw new ArgumentException("ImageDataset: needs at least one class name.");
        long expected = (long)labels.Length * channels * height * width;
        if (pixels.Length != expected)
            throw new ArgumentException($"ImageDataset: {labels.Length} images of {channels}×{height}×{width} need {expected} bytes. Received: {pixels.Length}");
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classNames.Count)
                throw new ArgumentException($"ImageDataset: label {labels[i]} of image {i} is outside 0–{classNames.Count - 1} ({classNames.Count} classes).");
        _pixels = pixels;
        _labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        ClassNames = classNames;
        Source = source;
    }

    public int Count => _labels.Length;
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }

    /// <summary>Bytes per image: C·H·W.</summary>
    public int ImageSize => Channels * Height * Width;

    public IReadOnlyList<string> ClassNames { get; }
    public int ClassCount => ClassNames.Count;

    /// <summary>Where the images came from (a folder), for messages.</summary>
    public string Source { get; }

    /// <summary>Image <paramref name="index"/> as C·H·W bytes.</summary>
    public ReadOnlySpan<byte> Image(int index) => _pixels.AsSpan(checked(index * ImageSize), ImageSize);

    public int Label(int index) => _labels[index];

    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>How many images each class has.</summary>
    /// <summary>The first <paramref name="count"/> images (all of them when there are fewer), e.g. for a quick run.</summary>
    public ImageDataset Take(int count) => Slice(0, Math.Min(Math.Max(count, 0), Count));

    /// <summary>Images <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> − 1, as a data set of their own.</summary>
    public ImageDataset Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(start), $"ImageDataset.Slice({start}, {count}) is outside its {Count} images.");
        return new ImageDataset(_pixels.AsSpan(start * ImageSize, count * ImageSize).ToArray(), _labels[start..(start + count)], Channels, Height, Width, ClassNames, Source);
    }

    public int[] CountPerClass()
    {
        var counts = new int[ClassCount];
        foreach (int label in _labels) counts[label]++;
        return counts;
    }
}
