using Fovea.Tests.Support;
using Fovea.Data;
using Fovea.Tests.Serialization;

namespace Fovea.Tests.Data;

public class IdxReaderTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsDimsAndDataRawOrGzip(bool gzip)
    {
        using var temp = new TempFolder();
        var raw = IdxBytes.Idx([2, 3, 4], IdxBytes.Counting(24));
        var path = temp.File("images"); // no .gz: compression is recognised by its magic bytes
        File.WriteAllBytes(path, gzip ? IdxBytes.Gzip(raw) : raw);

        var idx = IdxReader.Read(path, expectedDims: 3);

        Assert.Equal([2, 3, 4], idx.Dims);
        Assert.Equal(IdxBytes.Counting(24), idx.Data);
    }

    [Fact]
    public void ReadsAGzipLargerThanOneGrowthStep()
    {
        using var temp = new TempFolder();
        var path = temp.File("big.gz");
        File.WriteAllBytes(path, IdxBytes.Gzip(IdxBytes.Idx([3, 1000, 1000], IdxBytes.Counting(3_000_000))));
        Assert.Equal(IdxBytes.Counting(3_000_000), IdxReader.Read(path, 3).Data);
    }

    [Fact]
    public void ReadsAnEmptyArray()
    {
        using var temp = new TempFolder();
        var path = temp.File("empty");
        File.WriteAllBytes(path, IdxBytes.Idx([0], []));
        Assert.Empty(IdxReader.Read(path, 1).Data);
    }

    /// <summary>Damaged files and what the message must say; offsets are the same raw or gzipped (decompressed).</summary>
    public static TheoryData<byte[], string[]> Damaged => new()
    {
        { IdxBytes.Idx([4], IdxBytes.Counting(4)), ["wrong magic 0x00000801 at byte 0", "expected 0x00000803 (ubyte images, 3 dims)", "ubyte with 1 dims"] },
        { IdxBytes.Idx([1, 1, 1], new byte[4], type: 0x0D), ["wrong magic 0x00000D03 at byte 0", "float32 with 3 dims"] },
        { "PK\u0003\u0004 a zip file"u8.ToArray(), ["wrong magic 0x504B0304 at byte 0", "not an IDX file"] },
        { [0, 0, 8], ["magic number is cut short", "file ends at byte 3"] },
        { IdxBytes.Idx([2, 3, 4], [])[..10], ["header needs 16 bytes", "file ends at byte 10"] },
        { IdxBytes.Idx([2, 3, 4], IdxBytes.Counting(20)), ["truncated: expected 40 bytes for dims [2, 3, 4]", "file ends at byte 36"] },
        { IdxBytes.Idx([2, 3, 4], IdxBytes.Counting(25)), ["unexpected bytes after the data, which ends at byte 40"] },
        { [0, 0, 8, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 0, 0, 0, 1], ["dimension 0 has size 4294967295 at byte 4"] },
    };

    [Theory]
    [MemberData(nameof(Damaged))]
    public void DamageNamesTheFileAndOffset(byte[] file, string[] expected)
    {
        var e = ReadDamaged("train-images-idx3-ubyte", file);
        foreach (var part in expected) Assert.Contains(part, e.Message);
    }

    [Theory]
    [MemberData(nameof(Damaged))]
    public void GzipDamageNamesTheFileAndDecompressedOffset(byte[] file, string[] expected)
    {
        var e = ReadDamaged("train-images-idx3-ubyte.gz", IdxBytes.Gzip(file));
        foreach (var part in expected) Assert.Contains(part, e.Message);
        Assert.Contains("(decompressed)", e.Message);
    }

    [Fact]
    public void AnAbsurdHeaderIsCheckedAgainstTheFileLength()
    {
        var e = ReadDamaged("images", IdxBytes.Idx([60000, 100000, 100000], IdxBytes.Counting(10)));
        Assert.Contains("truncated: expected 600000000000016 bytes", e.Message);
        Assert.Contains("file ends at byte 26", e.Message);
    }

    [Fact]
    public void AnAbsurdGzipHeaderIsRefusedBeforeReadingData()
    {
        var e = ReadDamaged("images.gz", IdxBytes.Gzip(IdxBytes.Idx([60000, 100000, 100000], IdxBytes.Counting(10))));
        Assert.Contains("dims [60000, 100000, 100000] at byte 4 (decompressed) describe more bytes than one array can hold", e.Message);
    }

    private static InvalidDataException ReadDamaged(string name, byte[] file)
    {
        using var temp = new TempFolder();
        var path = temp.File(name);
        File.WriteAllBytes(path, file);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path, 3));
        Assert.StartsWith(path + ": ", e.Message);
        return e;
    }

    [Fact]
    public void AGzipStreamShorterThanItsHeaderSaysFailsWithoutAllocatingTheHeaderSize()
    {
        using var temp = new TempFolder();
        var path = temp.File("liar.gz");
        // 2 GB promised, 10 bytes present: must fail on the stream's end, not by allocating 2 GB first.
        File.WriteAllBytes(path, IdxBytes.Gzip(IdxBytes.Idx([2_000_000_000], IdxBytes.Counting(10))));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path, 1));
        Assert.Contains("truncated: expected 2000000008 bytes", e.Message);
        Assert.Contains("file ends at byte 18 (decompressed)", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "allocated more than 16 MB");
    }

    [Fact]
    public void DamagedGzipDataNamesTheFile()
    {
        using var temp = new TempFolder();
        var path = temp.File("broken.gz");
        var gz = IdxBytes.Gzip(IdxBytes.Idx([100], IdxBytes.Counting(100)));
        for (int i = 10; i < gz.Length - 8; i++) gz[i] ^= 0x5A;
        File.WriteAllBytes(path, gz);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path, 1));
        Assert.StartsWith(path + ": ", e.Message);
    }
}
