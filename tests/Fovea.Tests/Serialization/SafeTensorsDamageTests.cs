using Fovea.Tests.Support;
using System.Buffers.Binary;
using Fovea.Serialization;

namespace Fovea.Tests.Serialization;

/// <summary>Each kind of damage is reported as InvalidDataException naming the file, the problem and where it applies the tensor and byte.</summary>
public class SafeTensorsDamageTests
{
    private const string A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
    private const string B = "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}";

    /// <summary>(case, header, data bytes, fragments the message must contain).</summary>
    public static TheoryData<string, string, int, string[]> HeaderDamage => new()
    {
        { "overlapping offsets", "{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, ["tensor 'b'", "overlap tensor 'a' [0, 8]"] },
        { "gap between tensors", "{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20, ["tensor 'b'", "gap of 4 bytes", "at byte"] },
        { "gap at the start", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, ["tensor 'a'", "gap of 4 bytes after the start"] },
        { "trailing bytes", "{" + A + "}", 11, ["3 trailing bytes", "at byte"] },
        { "offsets past the end", "{" + A + "," + B + "}", 12, ["tensor 'b'", "run past the end of the 12-byte data buffer"] },
        { "offsets reversed", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8, ["tensor 'a'", "end before they begin"] },
        { "span not shape times dtype", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, ["tensor 'a'", "F32 [3] needs 12 bytes", "span 8"] },
        { "unknown dtype", "{\"a\":{\"dtype\":\"F7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, ["tensor 'a'", "unknown dtype 'F7'"] },
        { "dtype not a string", "{\"a\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, ["tensor 'a'", "unknown dtype"] },
        { "negative dimension", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, ["tensor 'a'", "dimension 0"] },
        { "dimension too large", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483648],\"data_offsets\":[0,8]}}", 8, ["tensor 'a'", "dimension 0"] },
        { "dimension not an integer", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1e3],\"data_offsets\":[0,8]}}", 8, ["tensor 'a'", "dimension 0"] },
        { "element count overflows", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", 8, ["tensor 'a'", "more than"] },
        { "shape not an array", "{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8, ["tensor 'a'", "shape is a JSON Number"] },
        { "offsets not a pair", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,9]}}", 8, ["tensor 'a'", "not a pair"] },
        { "negative offset", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8, ["tensor 'a'", "not a pair"] },
        { "missing field", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, ["tensor 'a'", "no \"shape\""] },
        { "record not an object", "{\"a\":[1,2]}", 0, ["tensor 'a'", "is a JSON Array"] },
        { "duplicate names", "{" + A + "," + A + "}", 8, ["duplicate key 'a'"] },
        { "metadata not a string map", "{\"__metadata__\":{\"epoch\":3}}", 0, ["'epoch'", "metadata maps strings to strings"] },
        { "metadata not an object", "{\"__metadata__\":\"x\"}", 0, ["__metadata__ is a JSON String"] },
        { "not JSON", "{\"a\":", 0, ["header is not valid JSON"] },
        { "JSON with trailing text", "{} x", 0, ["header is not valid JSON"] },
        { "not starting with a brace", " {}     ", 0, ["does not start with '{'", "at byte 8"] },
        { "a JSON array", "[1]", 0, ["does not start with '{'"] },
        { "empty header", "", 0, ["does not start with '{'"] },
        { "lone surrogate escape", "{\"\\uD800\":{}}", 0, ["not valid text"] },
    };

    [Theory]
    [MemberData(nameof(HeaderDamage))]
    public void DamagedHeaderNamesFileAndProblem(string what, string header, int dataLength, string[] fragments)
    {
        using var folder = new TempFolder();
        string path = folder.File(what.Replace(' ', '_') + ".safetensors");
        File.WriteAllBytes(path, SafeTensorsBytes.Raw(header, dataLength));
        AssertDamage(() => SafeTensors.Load(path), path, fragments);
        AssertDamage(() => SafeTensors.Load(new MemoryStream(File.ReadAllBytes(path))), "<stream>", fragments);
    }

    [Fact]
    public void InvalidUtf8HeaderIsDamage()
    {
        var bytes = SafeTensorsBytes.Raw("{\"a\":{}}", 0);
        bytes[10] = 0xFF;
        AssertDamage(() => SafeTensors.Load(bytes), "<bytes>", ["not valid UTF-8"]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void FileShorterThanTheLengthFieldIsTruncated(int length)
    {
        AssertDamage(() => SafeTensors.Load(new byte[length]), "<bytes>", [$"file is {length} bytes", "truncated"]);
    }

    [Fact]
    public void FileCutInTheDataIsTruncated()
    {
        using var t = Tensor.Ones(4);
        var bytes = SafeTensorsBytes.Serialize(new Dictionary<string, Tensor> { ["w"] = t });
        AssertDamage(() => SafeTensors.Load(bytes.AsMemory(0, bytes.Length - 3)), "<bytes>", ["tensor 'w'", "run past the end", "truncated"]);
    }

    [Fact]
    public void HeaderLengthPastTheEndIsTruncated()
    {
        var bytes = SafeTensorsBytes.Raw("{}      ", 0);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 9);
        AssertDamage(() => SafeTensors.Load(bytes), "<bytes>", ["header length 9 runs past the end of the file (16 bytes", "at byte 0"]);
    }

    [Theory]
    [InlineData(100_000_001UL)]
    [InlineData(ulong.MaxValue)]
    public void HeaderClaimedOverTheLimitIsRefusedBeforeAllocating(ulong claimed)
    {
        var bytes = SafeTensorsBytes.Raw("{}      ", 0);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, claimed);
        long before = GC.GetAllocatedBytesForCurrentThread();
        AssertDamage(() => SafeTensors.Load(bytes, "claims.safetensors"), "claims.safetensors", [$"header length {claimed} exceeds the 100000000-byte limit"]);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
    }

    [Fact]
    public void HugeShapeInATinyFileDoesNotAllocate()
    {
        // A zero-size tensor may legally have huge other dimensions; nothing may be sized by them.
        var bytes = SafeTensorsBytes.Raw("{\"a\":{\"dtype\":\"F64\",\"shape\":[0,2147483647,2147483647],\"data_offsets\":[0,0]}}", 0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var file = SafeTensors.Load(bytes);
        Assert.Equal(0, file.ToTensor("a").Length);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
    }

    [Fact]
    public void HugeHeaderValuesAreShortenedInMessages()
    {
        string name = new('n', 100_000), dtype = new('D', 100_000);
        var bytes = SafeTensorsBytes.Raw($"{{\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[],\"data_offsets\":[0,4]}}}}", 4);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(bytes));
        Assert.Contains("unknown dtype 'DDDD", e.Message);
        Assert.True(e.Message.Length < 500, $"message of {e.Message.Length} characters");
    }

    private static void AssertDamage(Action load, string source, string[] fragments)
    {
        var e = Assert.Throws<InvalidDataException>(load);
        Assert.StartsWith(source + ": ", e.Message);
        foreach (var f in fragments) Assert.Contains(f, e.Message);
    }
}
