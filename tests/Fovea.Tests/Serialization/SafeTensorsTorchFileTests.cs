using System.Text.Json.Nodes;
using Fovea.Serialization;

namespace Fovea.Tests.Serialization;

/// <summary>Reads Fixtures/torch_written.safetensors, laid out as PyTorch's safetensors writer does (see gen_safetensors.py).</summary>
public class SafeTensorsTorchFileTests
{
    private static readonly string FilePath = Path.Combine(AppContext.BaseDirectory, "Fixtures", "torch_written.safetensors");
    private static readonly JsonObject Expected = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "torch_written.json")))!.AsObject();

    private static JsonObject ExpectedTensor(string name) => Expected["tensors"]![name]!.AsObject();
    private static T[] Array<T>(JsonNode? node) => node!.AsArray().Select(v => v!.GetValue<T>()).ToArray();

    [Fact]
    public void ReadsNamesOrderAndMetadata()
    {
        var file = SafeTensors.Load(FilePath);
        Assert.Equal(Array<string>(Expected["order"]), file.Names);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(Expected["metadata"]!.AsObject().Count, file.Metadata.Count);
    }

    [Fact]
    public void ReadsEveryTensorExactly()
    {
        var file = SafeTensors.Load(FilePath);
        foreach (var name in file.Names)
        {
            var e = ExpectedTensor(name);
            Assert.Equal(e["dtype"]!.GetValue<string>(), file[name].DType.HeaderName());
            Assert.Equal(Array<int>(e["shape"]), file[name].Shape.ToArray());
            if (e["ints"] is JsonNode ints)
            {
                Assert.Equal(Array<long>(ints), file.ReadInt64(name));
            }
            else
            {
                using var t = file.ToTensor(name);
                Assert.Equal(Array<uint>(e["float32_bits"]), t.ToArray().Select(BitConverter.SingleToUInt32Bits));
            }
        }
    }

    [Fact]
    public void BatchNormCounterIsAnInt64Scalar()
    {
        var file = SafeTensors.Load(FilePath);
        Assert.Equal(DType.I64, file["bn.num_batches_tracked"].DType);
        Assert.Equal(0, file["bn.num_batches_tracked"].Shape.Rank);
        Assert.Equal([1234567890123L], file.ReadInt64("bn.num_batches_tracked"));
    }

    [Theory]
    [InlineData("half.values", DType.F16)]
    [InlineData("bf16.values", DType.BF16)]
    public void WriterRoundsLikePyTorch(string name, DType dtype)
    {
        var e = ExpectedTensor(name);
        var source = Array<uint>(e["source_bits"]).Select(BitConverter.UInt32BitsToSingle).ToArray();
        using var t = Tensor.FromArray(source, source.Length);
        var written = SafeTensors.Load(SafeTensorsBytes.Serialize(new Dictionary<string, Tensor> { [name] = t }, dtypeOf: _ => dtype)).ReadBytes(name).ToArray();
        var torchBits = Array<ushort>(e["bits"]);
        Assert.Equal(torchBits, Enumerable.Range(0, source.Length).Select(i => BitConverter.ToUInt16(written, 2 * i)));
    }

    [Fact]
    public void WriterProducesTheSameHeaderAsPyTorch()
    {
        var file = SafeTensors.Load(FilePath);
        var tensors = file.ToTensors();
        var rewritten = SafeTensorsBytes.Serialize(tensors, file.Metadata, n => file[n].DType);
        var original = File.ReadAllBytes(FilePath);
        int headerEnd = 8 + (int)BitConverter.ToUInt64(original, 0);
        Assert.Equal(original[..headerEnd], rewritten[..headerEnd]);
        foreach (var t in tensors.Values) t.Dispose();
    }
}
