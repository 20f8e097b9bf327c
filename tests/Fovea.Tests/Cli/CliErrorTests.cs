using Fovea.Tests.Support;

namespace Fovea.Tests.Cli;

/// <summary>Bad input: one line on stderr, a non-zero exit code, never a stack trace.</summary>
public class CliErrorTests
{
    private static string OneLineError(params string[] args)
    {
        using var folder = new TempFolder();
        var (exit, _, stderr) = FoveaProcess.Run(folder.Path, args);
        Assert.NotEqual(0, exit);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("fovea: error: ", lines[0]);
        Assert.DoesNotContain("   at ", stderr);
        return lines[0];
    }

    [Fact]
    public void AnUnknownModelListsTheKnownOnes()
    {
        var line = OneLineError("train", "--model", "vgg99", "--data", FoveaProcess.SampleData);
        Assert.Contains("vgg99", line);
        Assert.Contains("cnn-small", line);
    }

    [Fact]
    public void AMissingDataFolderNamesThePathAndThePackage()
    {
        var line = OneLineError("train", "--data", "/no/such/folder");
        Assert.Contains("/no/such/folder", line);
        Assert.Contains("dataset-fashion-mnist", line);
    }

    [Fact]
    public void AWrongMagicNamesTheFileAndTheOffset()
    {
        using var data = MnistFolder(Idx(0x0801, [2, 4, 4], new byte[32]), Idx(0x0801, [2], [0, 1]));
        var line = OneLineError("train", "--data", data.Path);
        Assert.Contains("train-images-idx3-ubyte", line);
        Assert.Contains("byte 0", line);
    }

    [Fact]
    public void ATruncatedFileNamesTheFileAndTheOffset()
    {
        using var data = MnistFolder(Idx(0x0803, [2, 4, 4], new byte[20]), Idx(0x0801, [2], [0, 1]));
        var line = OneLineError("train", "--data", data.Path);
        Assert.Contains("train-images-idx3-ubyte", line);
        Assert.Contains("byte", line);
    }

    [Fact]
    public void LabelAndImageCountsThatDifferNameBothFiles()
    {
        using var data = MnistFolder(Idx(0x0803, [2, 4, 4], new byte[32]), Idx(0x0801, [3], [0, 1, 2]));
        var line = OneLineError("train", "--data", data.Path);
        Assert.Contains("train-images-idx3-ubyte", line);
        Assert.Contains("train-labels-idx1-ubyte", line);
    }

    [Fact]
    public void AModelThatDoesNotFitTheImagesNamesTheLayerAndShapesBeforeTraining()
    {
        using var data = MnistFolder(Idx(0x0803, [2, 8, 8], new byte[128]), Idx(0x0801, [2], [0, 1]));
        var line = OneLineError("train", "--model", "lenet5", "--data", data.Path);
        Assert.Contains("lenet5", line);
        Assert.Contains("1×8×8", line);
        Assert.Contains("Conv2d(6→16", line);
        Assert.Contains("[1, 6, 4, 4]", line);
    }

    [Fact]
    public void ResumeRefusesToChangeTheRecipe()
    {
        var line = OneLineError("train", "--resume", "x.safetensors", "--lr", "0.1");
        Assert.Contains("--lr", line);
    }

    /// <summary>A folder with the four MNIST files, the training and test files alike.</summary>
    private static TempFolder MnistFolder(byte[] images, byte[] labels)
    {
        var folder = new TempFolder();
        foreach (var name in new[] { "train", "t10k" })
        {
            File.WriteAllBytes(folder.File($"{name}-images-idx3-ubyte"), images);
            File.WriteAllBytes(folder.File($"{name}-labels-idx1-ubyte"), labels);
        }
        return folder;
    }

    /// <summary>An IDX file: magic (big-endian), dimensions, data.</summary>
    private static byte[] Idx(int magic, int[] dims, byte[] data)
    {
        var bytes = new List<byte>();
        void Int(int v) => bytes.AddRange([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);
        Int(magic);
        foreach (int d in dims) Int(d);
        bytes.AddRange(data);
        return [.. bytes];
    }
}
