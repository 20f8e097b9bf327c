using System.CommandLine;
using Fovea.Data;
using Spectre.Console;

namespace Fovea.Cli;

/// <summary>The --data option and how a data folder is found and loaded (MNIST-style IDX or CIFAR-10 binary).</summary>
internal static class DataOptions
{
    public static Option<string?> Create() => new("--data")
    {
        Description = $"Data folder: MNIST-style IDX files or CIFAR-10 binary batches. Default: {DataLocator.DebianFashionMnistFolder} when installed, else the sample in the repository's {DataLocator.SampleFolder}.",
    };

    /// <summary>The training and test sets of <paramref name="folder"/> (or the default), saying on <paramref name="console"/> which it used.</summary>
    public static (ImageDataset Train, ImageDataset Test) Load(string? folder, IAnsiConsole console)
    {
        string path;
        string description;
        if (folder is null)
        {
            var location = DataLocator.FashionMnist();
            path = location.Path;
            description = location.IsFullSet ? "full Fashion-MNIST" : "the Fashion-MNIST sample bundled with Fovea (install dataset-fashion-mnist for the full set)";
        }
        else
        {
            path = Path.GetFullPath(folder);
            description = "given with --data";
        }
        if (!Directory.Exists(path))
            throw new DirectoryNotFoundException($"Data folder '{path}' does not exist. For Fashion-MNIST install the Debian package {DataLocator.DebianPackage} (files in {DataLocator.DebianFashionMnistFolder}) or leave out --data to use the bundled sample.");
        bool cifar = Directory.Exists(path) && (File.Exists(Path.Combine(path, "test_batch.bin")) || Directory.Exists(Path.Combine(path, "cifar-10-batches-bin")));
        var train = cifar ? Cifar10Folder.Load(path, train: true) : MnistFolder.Load(path, train: true);
        var test = cifar ? Cifar10Folder.Load(path, train: false) : MnistFolder.Load(path, train: false);
        console.MarkupLine($"[grey]Data: {Markup.Escape(path)} ({Markup.Escape(description)}): {train.Count} training and {test.Count} test images of {train.Channels}×{train.Height}×{train.Width}[/]");
        return (train, test);
    }
}
