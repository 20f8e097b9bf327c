namespace Fovea.Data;

/// <summary>
/// Finds the default Fashion-MNIST folder: the full set installed by the Debian package when it is
/// there, otherwise the sample committed in the repository under <c>data/fashion-mnist-sample</c>,
/// found by walking up from the program's folder and from the current directory.
/// </summary>
public static class DataLocator
{
    public const string DebianFashionMnistFolder = "/usr/share/datasets/fashion-mnist";
    public const string DebianPackage = "dataset-fashion-mnist";
    public static readonly string SampleFolder = Path.Combine("data", "fashion-mnist-sample");

    /// <summary>The full set when installed, else the bundled sample.</summary>
    /// <exception cref="DirectoryNotFoundException">Neither is present.</exception>
    public static DataLocation FashionMnist() =>
        FashionMnist(DebianFashionMnistFolder, [AppContext.BaseDirectory, Directory.GetCurrentDirectory()]);

    /// <summary>The full set in <paramref name="fullSetFolder"/> when it holds the files, else the sample found above <paramref name="searchStarts"/>.</summary>
    public static DataLocation FashionMnist(string fullSetFolder, IEnumerable<string> searchStarts)
    {
        if (MnistFolder.HasFiles(fullSetFolder)) return new DataLocation(fullSetFolder, IsFullSet: true);
        var starts = searchStarts.ToArray();
        if (FindSample(starts) is string sample) return new DataLocation(sample, IsFullSet: false);
        throw new DirectoryNotFoundException(
            $"No Fashion-MNIST data: '{fullSetFolder}' does not hold the IDX files (install the Debian package {DebianPackage}), " +
            $"and no folder above {string.Join(" or ", starts.Select(s => $"'{s}'"))} contains {SampleFolder}.");
    }

    /// <summary>The first <c>data/fashion-mnist-sample</c> holding the files in or above any of <paramref name="searchStarts"/>, or null.</summary>
    public static string? FindSample(IEnumerable<string> searchStarts)
    {
        foreach (var start in searchStarts)
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, SampleFolder);
                if (MnistFolder.HasFiles(candidate)) return candidate;
            }
        return null;
    }

    /// <summary>Whether <paramref name="folder"/> is where the Debian package installs Fashion-MNIST (its errors then name the package).</summary>
    public static bool IsDebianFashionMnistFolder(string folder) =>
        Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)) == DebianFashionMnistFolder;
}
