using Fovea.Data;

namespace Fovea.Tests.Training;

/// <summary>The Fashion-MNIST sample bundled in the repository (data/fashion-mnist-sample), loaded once.</summary>
internal static class SampleData
{
    private static readonly Lazy<(ImageDataset Train, ImageDataset Test)> Sets = new(() =>
    {
        var folder = DataLocator.FindSample([AppContext.BaseDirectory]) ?? throw new DirectoryNotFoundException("data/fashion-mnist-sample not found above the test folder.");
        return (MnistFolder.Load(folder, train: true), MnistFolder.Load(folder, train: false));
    });

    public static ImageDataset Train => Sets.Value.Train;
    public static ImageDataset Test => Sets.Value.Test;
}
