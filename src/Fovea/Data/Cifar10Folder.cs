namespace Fovea.Data;

/// <summary>
/// Loads the binary version of CIFAR-10: <c>data_batch_1.bin</c> … <c>data_batch_5.bin</c> (training)
/// and <c>test_batch.bin</c>, each a sequence of 3073-byte records (one label byte, then a 3×32×32
/// image in CHW order). The folder may also be the one the archive unpacks into
/// (<c>cifar-10-batches-bin</c>) or its parent.
/// </summary>
public static class Cifar10Folder
{
    public const int Channels = 3, Height = 32, Width = 32;
    private const int ImageBytes = Channels * Height * Width;
    private const int RecordBytes = 1 + ImageBytes;

    public static readonly IReadOnlyList<string> Classes =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>The file names of the training or test split.</summary>
    public static IReadOnlyList<string> Files(bool train) =>
        train ? [.. Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin")] : ["test_batch.bin"];

    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">A batch file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is not a whole number of records, or holds a label above 9.</exception>
    public static ImageDataset Load(string folder, bool train)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Data folder '{folder}' does not exist.");
        var unpacked = Path.Combine(folder, "cifar-10-batches-bin");
        if (!File.Exists(Path.Combine(folder, Files(train)[0])) && Directory.Exists(unpacked)) folder = unpacked;

        var paths = Files(train).Select(name => Path.Combine(folder, name)).ToArray();
        var missing = paths.Where(p => !File.Exists(p)).Select(Path.GetFileName).ToArray();
        if (missing.Length > 0)
            throw new FileNotFoundException($"Data folder '{folder}' lacks {string.Join(", ", missing)} (CIFAR-10 binary version: {string.Join(", ", Files(train))}).");

        long[] lengths = paths.Select(p => new FileInfo(p).Length).ToArray();
        long total = paths.Zip(lengths, RecordCount).Sum();
        if (total * ImageBytes > Array.MaxLength) throw new InvalidDataException($"{folder}: {total} images are more than one array can hold.");

        var pixels = new byte[total * ImageBytes];
        var labels = new int[total];
        int image = 0;
        for (int f = 0; f < paths.Length; f++)
        {
            byte[] file = File.ReadAllBytes(paths[f]);
            if (file.Length != lengths[f]) throw new InvalidDataException($"{paths[f]}: the file changed while it was read ({lengths[f]} bytes, then {file.Length}).");
            for (int offset = 0; offset < file.Length; offset += RecordBytes, image++)
            {
                int label = file[offset];
                if (label >= Classes.Count) throw new InvalidDataException($"{paths[f]}: label {label} at byte {offset} is outside 0–{Classes.Count - 1} ({Classes.Count} classes).");
                labels[image] = label;
                file.AsSpan(offset + 1, ImageBytes).CopyTo(pixels.AsSpan(image * ImageBytes));
            }
        }
        return new ImageDataset(pixels, labels, Channels, Height, Width, Classes, folder);
    }

    private static long RecordCount(string path, long length)
    {
        if (length == 0) throw new InvalidDataException($"{path}: the file is empty, expected {RecordBytes}-byte records (at byte 0).");
        if (length % RecordBytes != 0)
            throw new InvalidDataException($"{path}: {length} bytes is not a whole number of {RecordBytes}-byte records (1 label + {ImageBytes} pixels); the incomplete record starts at byte {length - length % RecordBytes}.");
        return length / RecordBytes;
    }
}
