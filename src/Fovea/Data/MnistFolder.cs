namespace Fovea.Data;

/// <summary>
/// Loads an MNIST-style folder: <c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>,
/// <c>t10k-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c>, each raw or with <c>.gz</c>.
/// Fashion-MNIST and MNIST share the format; the class names default to Fashion-MNIST's.
/// </summary>
public static class MnistFolder
{
    public static readonly IReadOnlyList<string> FashionMnistClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The images file name (without <c>.gz</c>) of the training or test split.</summary>
    public static string ImagesFile(bool train) => $"{Split(train)}-images-idx3-ubyte";

    /// <summary>The labels file name (without <c>.gz</c>) of the training or test split.</summary>
    public static string LabelsFile(bool train) => $"{Split(train)}-labels-idx1-ubyte";

    /// <summary>Whether <paramref name="folder"/> holds all four files, raw or gzipped.</summary>
    public static bool HasFiles(string folder) =>
        new[] { ImagesFile(true), LabelsFile(true), ImagesFile(false), LabelsFile(false) }.All(name => Find(folder, name) is not null);

    /// <summary>Loads the training or test split of an MNIST-style folder.</summary>
    /// <param name="folder">The folder holding the IDX files.</param>
    /// <param name="train">The training split (<c>train-*</c>) when true, else the test split (<c>t10k-*</c>).</param>
    /// <param name="classNames">Names of the classes; Fashion-MNIST's when null. Labels must be below their count.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The folder lacks the images or labels file.</exception>
    /// <exception cref="InvalidDataException">A file is damaged, or the files do not agree.</exception>
    public static ImageDataset Load(string folder, bool train, IReadOnlyList<string>? classNames = null)
    {
        classNames ??= FashionMnistClasses;
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Data folder '{folder}' does not exist{DebianHint(folder)}.");
        string imagesName = ImagesFile(train), labelsName = LabelsFile(train);
        string? imagesPath = Find(folder, imagesName), labelsPath = Find(folder, labelsName);
        if (imagesPath is null || labelsPath is null)
        {
            var missing = new[] { (Name: imagesName, Path: imagesPath), (Name: labelsName, Path: labelsPath) }.Where(f => f.Path is null).Select(f => $"{f.Name}[.gz]");
            throw new FileNotFoundException($"Data folder '{folder}' lacks {string.Join(" and ", missing)} (MNIST-style IDX files){DebianHint(folder)}.");
        }

        var images = IdxReader.Read(imagesPath, expectedDims: 3);
        var labels = IdxReader.Read(labelsPath, expectedDims: 1);
        int count = images.Dims[0], height = images.Dims[1], width = images.Dims[2];
        if (labels.Dims[0] != count)
            throw new InvalidDataException($"{imagesPath} holds {count} images but {labelsPath} holds {labels.Dims[0]} labels (counts at byte 4 of each).");
        if (height == 0 || width == 0) throw new InvalidDataException($"{imagesPath}: images of {height}×{width} pixels (sizes at byte 8).");

        var labelValues = new int[count];
        const int labelsStart = 8; // magic + one dimension size
        for (int i = 0; i < count; i++)
        {
            labelValues[i] = labels.Data[i];
            if (labelValues[i] >= classNames.Count)
                throw new InvalidDataException($"{labelsPath}: label {labelValues[i]} at byte {labelsStart + i} is outside 0–{classNames.Count - 1} ({classNames.Count} classes).");
        }
        return new ImageDataset(images.Data, labelValues, channels: 1, height, width, classNames, folder);
    }

    private static string Split(bool train) => train ? "train" : "t10k";

    /// <summary>The raw file if present, else the gzipped one, else null.</summary>
    private static string? Find(string folder, string name) =>
        new[] { name, name + ".gz" }.Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists);

    private static string DebianHint(string folder) =>
        DataLocator.IsDebianFashionMnistFolder(folder)
            ? $"; install the Debian package {DataLocator.DebianPackage} (apt install {DataLocator.DebianPackage})"
            : "";
}
