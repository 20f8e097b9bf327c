using Fovea.Tests.Support;
using Fovea.Data;
using Fovea.Tests.Serialization;

namespace Fovea.Tests.Data;

public class Cifar10FolderTests
{
    private static void WriteTrain(string folder, int recordsPerFile = 2)
    {
        for (int f = 1; f <= 5; f++)
        {
            int first = (f - 1) * recordsPerFile;
            var labels = Enumerable.Range(first, recordsPerFile).Select(i => i % 10).ToArray();
            File.WriteAllBytes(Path.Combine(folder, $"data_batch_{f}.bin"), IdxBytes.CifarRecords(labels, r => (byte)(first + r)));
        }
    }

    [Fact]
    public void LoadsTheFiveTrainingBatchesInOrder()
    {
        using var temp = new TempFolder();
        WriteTrain(temp.Path);

        var data = Cifar10Folder.Load(temp.Path, train: true);

        Assert.Equal((10, 3, 32, 32), (data.Count, data.Channels, data.Height, data.Width));
        Assert.Equal(Enumerable.Range(0, 10), data.Labels.ToArray());
        Assert.All(Enumerable.Range(0, 10), i => Assert.All(data.Image(i).ToArray(), p => Assert.Equal(i, p)));
        Assert.Equal("airplane", data.ClassNames[0]);
        Assert.Equal("truck", data.ClassNames[9]);
    }

    [Fact]
    public void LoadsTheTestBatchFromTheUnpackedArchiveFolder()
    {
        using var temp = new TempFolder();
        var unpacked = Directory.CreateDirectory(Path.Combine(temp.Path, "cifar-10-batches-bin")).FullName;
        var records = IdxBytes.CifarRecords([7, 3], r => (byte)(100 + r));
        records[1 + 1024] = 200; // first pixel of the green plane of record 0: CHW order is kept
        File.WriteAllBytes(Path.Combine(unpacked, "test_batch.bin"), records);

        var data = Cifar10Folder.Load(temp.Path, train: false);

        Assert.Equal([7, 3], data.Labels.ToArray());
        Assert.Equal(200, data.Image(0)[1024]);
        Assert.Equal(101, data.Image(1)[3071]);
    }

    [Fact]
    public void MissingFilesAreListed()
    {
        using var temp = new TempFolder();
        WriteTrain(temp.Path);
        File.Delete(Path.Combine(temp.Path, "data_batch_4.bin"));
        var e = Assert.Throws<FileNotFoundException>(() => Cifar10Folder.Load(temp.Path, train: true));
        Assert.Contains($"'{temp.Path}' lacks data_batch_4.bin", e.Message);
        Assert.Contains("test_batch.bin", Assert.Throws<FileNotFoundException>(() => Cifar10Folder.Load(temp.Path, train: false)).Message);
    }

    [Fact]
    public void APartialRecordNamesTheFileAndOffset()
    {
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "test_batch.bin");
        File.WriteAllBytes(path, IdxBytes.CifarRecords([1, 2, 3], _ => 0)[..(2 * 3073 + 100)]);
        var e = Assert.Throws<InvalidDataException>(() => Cifar10Folder.Load(temp.Path, train: false));
        Assert.Equal($"{path}: 6246 bytes is not a whole number of 3073-byte records (1 label + 3072 pixels); the incomplete record starts at byte 6146.", e.Message);
    }

    [Fact]
    public void AnEmptyFileIsNamed()
    {
        using var temp = new TempFolder();
        File.WriteAllBytes(Path.Combine(temp.Path, "test_batch.bin"), []);
        Assert.Contains("test_batch.bin: the file is empty", Assert.Throws<InvalidDataException>(() => Cifar10Folder.Load(temp.Path, train: false)).Message);
    }

    [Fact]
    public void ALabelOutOfRangeNamesTheFileAndOffset()
    {
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "test_batch.bin");
        File.WriteAllBytes(path, IdxBytes.CifarRecords([1, 12], _ => 0));
        var e = Assert.Throws<InvalidDataException>(() => Cifar10Folder.Load(temp.Path, train: false));
        Assert.Contains($"{path}: label 12 at byte 3073 is outside 0–9", e.Message);
    }
}
