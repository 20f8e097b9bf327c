using Fovea.Tests.Support;
using Fovea.Data;
using Fovea.Tests.Serialization;

namespace Fovea.Tests.Data;

public class BundledSampleTests
{
    private static string Sample => DataLocator.FindSample([AppContext.BaseDirectory])
        ?? throw new Xunit.Sdk.XunitException($"no {DataLocator.SampleFolder} above {AppContext.BaseDirectory}");

    [Fact]
    public void TheSampleHas600TrainingAnd100TestImagesPerClass()
    {
        var train = MnistFolder.Load(Sample, train: true);
        var test = MnistFolder.Load(Sample, train: false);
        Assert.Equal((6000, 1, 28, 28), (train.Count, train.Channels, train.Height, train.Width));
        Assert.Equal(Enumerable.Repeat(600, 10), train.CountPerClass());
        Assert.Equal(1000, test.Count);
        Assert.Equal(Enumerable.Repeat(100, 10), test.CountPerClass());
        Assert.Equal(9, train.Label(0)); // Fashion-MNIST's first training image is an ankle boot
    }

    [Fact]
    public void TheFashionMnistStatisticsFitTheSample()
    {
        var stats = Normalization.Compute(MnistFolder.Load(Sample, train: true));
        Assert.Equal(Normalization.FashionMnist.Mean[0], stats.Mean[0], 0.01f);
        Assert.Equal(Normalization.FashionMnist.Std[0], stats.Std[0], 0.01f);
    }

    [Fact]
    public void TheLocatorPrefersTheFullSetAndFallsBackToTheSample()
    {
        using var temp = new TempFolder();
        IdxBytes.WriteMnist(temp.Path, train: true, [1]);
        IdxBytes.WriteMnist(temp.Path, train: false, [2], gzip: true);
        Assert.Equal(new DataLocation(temp.Path, IsFullSet: true), DataLocator.FashionMnist(temp.Path, [AppContext.BaseDirectory]));

        var fallback = DataLocator.FashionMnist("/no/such/fovea/folder", [Path.GetTempPath(), AppContext.BaseDirectory]);
        Assert.Equal(new DataLocation(Sample, IsFullSet: false), fallback);
        Assert.Contains("sample bundled with Fovea", fallback.Description);

        var none = Assert.Throws<DirectoryNotFoundException>(() => DataLocator.FashionMnist("/no/such/fovea/folder", [temp.Path]));
        Assert.Contains("install the Debian package dataset-fashion-mnist", none.Message);
        Assert.Contains(temp.Path, none.Message);
    }

    [Fact]
    public void TheDefaultIsTheDebianFolderWhenInstalled()
    {
        var location = DataLocator.FashionMnist();
        Assert.Equal(MnistFolder.HasFiles(DataLocator.DebianFashionMnistFolder), location.IsFullSet);
        Assert.True(MnistFolder.HasFiles(location.Path));
    }
}
