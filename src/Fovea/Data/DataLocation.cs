namespace Fovea.Data;

/// <summary>A data folder and whether it holds the full data set or the sample bundled with Fovea.</summary>
public sealed record DataLocation(string Path, bool IsFullSet)
{
    /// <summary>One line for a person: which data and where.</summary>
    public string Description => IsFullSet
        ? $"Fashion-MNIST, full set (60000 train / 10000 test images) in {Path}"
        : $"Fashion-MNIST sample bundled with Fovea (6000 train / 1000 test images) in {Path}; install the Debian package {DataLocator.DebianPackage} for the full set";
}
