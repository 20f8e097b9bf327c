using Fovea.Tests.Support;
using Fovea.Data;
using Fovea.Tests.Serialization;

namespace Fovea.Tests.Data;

public class MnistFolderTests
{
    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void LoadsEitherSplitRawOrGzipped(bool train, bool gzip)
    {
        using var temp = new TempFolder();
        IdxBytes.WriteMnist(temp.Path, train, [3, 1, 4, 1, 5], height: 3, width: 2, gzip);

        var data = MnistFolder.Load(temp.Path, train);

        Assert.Equal((5, 1, 3, 2), (data.Count, data.Channels, data.Height, data.Width));
        Assert.Equal([3, 1, 4, 1, 5], data.Labels.ToArray());
        Assert.Equal(Enumerable.Repeat((byte)2, 6), data.Image(2).ToArray());
        Assert.Equal("Dress", data.ClassNames[3]);
        Assert.Equal(10, data.ClassCount);
        Assert.Equal([0, 2, 0, 1, 1, 1, 0, 0, 0, 0], data.CountPerClass());
        Assert.Equal(temp.Path, data.Source);
    }

    [Fact]
    public void MissingFilesNameTheFolderAndTheExpectedNames()
    {
        using var temp = new TempFolder();
        IdxBytes.WriteMnist(temp.Path, train: false, [1, 2]);
        File.Delete(Path.Combine(temp.Path, "t10k-labels-idx1-ubyte"));

        var test = Assert.Throws<FileNotFoundException>(() => MnistFolder.Load(temp.Path, train: false));
        Assert.Contains($"'{temp.Path}' lacks t10k-labels-idx1-ubyte[.gz]", test.Message);
        Assert.DoesNotContain("t10k-images", test.Message);
        Assert.DoesNotContain(DataLocator.DebianPackage, test.Message);

        var train = Assert.Throws<FileNotFoundException>(() => MnistFolder.Load(temp.Path, train: true));
        Assert.Contains("train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]", train.Message);
        Assert.False(MnistFolder.HasFiles(temp.Path));
    }

    [Fact]
    public void AMissingFolderIsNamed()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => MnistFolder.Load("/no/such/fovea/folder", train: true));
        Assert.Contains("'/no/such/fovea/folder' does not exist", e.Message);
    }

    [Fact]
    public void TheDebianFolderNamesTheDebianPackage()
    {
        Assert.True(DataLocator.IsDebianFashionMnistFolder("/usr/share/datasets/fashion-mnist/"));
        if (MnistFolder.HasFiles(DataLocator.DebianFashionMnistFolder)) return; // installed here: nothing is missing
        var e = Assert.ThrowsAny<IOException>(() => MnistFolder.Load(DataLocator.DebianFashionMnistFolder, train: true));
        Assert.Contains("install the Debian package dataset-fashion-mnist", e.Message);
    }

    [Fact]
    public void CountMismatchNamesBothFilesAndCounts()
    {
        using var temp = new TempFolder();
        IdxBytes.WriteMnist(temp.Path, train: true, [1, 2, 3]);
        var labels = Path.Combine(temp.Path, "train-labels-idx1-ubyte");
        File.WriteAllBytes(labels, IdxBytes.Idx([2], [1, 2]));

        var e = Assert.Throws<InvalidDataException>(() => MnistFolder.Load(temp.Path, train: true));
        Assert.Contains($"{Path.Combine(temp.Path, "train-images-idx3-ubyte")} holds 3 images but {labels} holds 2 labels", e.Message);
    }

    [Fact]
    public void ALabelOutOfRangeNamesTheFileAndOffset()
    {
        using var temp = new TempFolder();
        IdxBytes.WriteMnist(temp.Path, train: true, [1, 2, 10], gzip: true);
        var e = Assert.Throws<InvalidDataException>(() => MnistFolder.Load(temp.Path, train: true));
        Assert.Contains("train-labels-idx1-ubyte.gz: label 10 at byte 10 is outside 0–9", e.Message);

        var digits = MnistFolder.Load(temp.Path, train: true, classNames: [.. Enumerable.Range(0, 11).Select(i => i.ToString())]);
        Assert.Equal(10, digits.Label(2));
    }

    [Fact]
    public void DamagedImagesFileSurfacesTheReaderMessage()
    {
        using var temp = new TempFolder();
        IdxBytes.WriteMnist(temp.Path, train: true, [1, 2]);
        var images = Path.Combine(temp.Path, "train-images-idx3-ubyte");
        File.WriteAllBytes(images, File.ReadAllBytes(images)[..20]);
        var e = Assert.Throws<InvalidDataException>(() => MnistFolder.Load(temp.Path, train: true));
        Assert.Equal($"{images}: truncated: expected 28 bytes for dims [2, 3, 2], file ends at byte 20.", e.Message);
    }
}
