using Fovea.Onnx;
using Fovea.Onnx.Import;

namespace Fovea.Tests.Onnx.Import;

/// <summary>
/// Damaged and hostile ONNX files: each fails with <see cref="InvalidDataException"/> (or
/// <see cref="NotSupportedException"/> for valid content Fovea does not read) whose message names the
/// problem — the value, node or byte offset — and never crashes, hangs or allocates beyond the file.
/// </summary>
public class MalformedOnnxTests
{
    private static string Invalid(byte[] bytes) => Assert.Throws<InvalidDataException>(() => OnnxModel.Load(bytes, "bad.onnx")).Message;

    private static string Unsupported(byte[] bytes) => Assert.Throws<NotSupportedException>(() => OnnxModel.Load(bytes, "odd.onnx")).Message;

    private static byte[] Graph(Action<ProtoWriter> body, long opset = 13) => RawOnnx.Model(g => body(g.Input("x", 2).Output("y", 2)), opset);

    [Fact]
    public void TheBaseModelLoadsAndRuns()
    {
        var model = OnnxModel.Load(RawOnnx.IdentityChain());
        using var x = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 1, 2, 3);
        var outputs = model.Run(new Dictionary<string, OnnxValue> { ["x"] = OnnxValue.Float(x) });
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], outputs["y"].Floats!.ToArray());
        Assert.Equal([1f, 2f, 3f, 4f], outputs["w_out"].Floats!.ToArray());
    }

    [Fact]
    public void EveryTruncationIsInvalidDataAndInsideTheGraphNamesAByteOffset()
    {
        var bytes = RawOnnx.IdentityChain();
        int graphStart = 2 + 2 + "test".Length; // ir_version field, producer field
        int graphEnd = bytes.Length - 6;        // the opset_import field follows the graph
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            string message = Invalid(bytes[..cut]);
            Assert.StartsWith("bad.onnx: ", message);
            if (cut > graphStart + 3 && cut < graphEnd) Assert.Contains("byte ", message);
        }
    }

    [Fact]
    public void AWrongWireTypeNamesTheFieldAndTheOffset()
    {
        // graph (field 7) sent as a varint
        var message = Invalid(new ProtoWriter().Int(1, 8).Int(7, 5).ToArray());
        Assert.Contains("graph field has wire type 0, expected 2", message);
        Assert.Contains("byte 3", message);
        // a node's op_type (field 4) sent as a varint
        message = Invalid(Graph(g => g.Message(1, n => n.String(1, "x").String(2, "y").Int(4, 3))));
        Assert.Contains("node member field has wire type 0, expected 2", message);
        Assert.Contains("byte ", message);
    }

    [Fact]
    public void GroupsAndUnknownWireTypesAreRejected()
    {
        // tag of field 3, wire type 3 (start group): protobuf 2 groups, which ONNX never uses
        Assert.Contains("unsupported wire type 3", Invalid([0x08, 0x08, 0x1B]));
        Assert.Contains("unsupported wire type 7", Invalid([0x08, 0x08, 0x1F]));
        Assert.Contains("byte 0: field number 0", Invalid([0x00, 0x01]));
    }

    [Fact]
    public void AHugeLengthFailsBeforeAllocatingAnything()
    {
        // graph field (7, wire type 2) whose length varint says 2^62
        var bytes = new List<byte> { 7 << 3 | 2 };
        ulong v = 1UL << 62;
        for (; v >= 0x80; v >>= 7) bytes.Add((byte)(v | 0x80));
        bytes.Add((byte)v);
        bytes.AddRange(new byte[16]);
        OnnxModel.Load(RawOnnx.IdentityChain()); // warm up: the op registry, the JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        var message = Invalid([.. bytes]);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024, "a bogus length must not allocate");
        Assert.Contains("length 4611686018427387904 runs past the end of its message", message);
    }

    [Fact]
    public void AnOverlongVarintIsRejected() =>
        Assert.Contains("varint longer than 10 bytes", Invalid([0x08, .. Enumerable.Repeat((byte)0xFF, 11)]));

    [Fact]
    public void AFileWithoutAGraphSaysSo() =>
        Assert.Contains("the model has no graph", Invalid(new ProtoWriter().Int(1, 8).String(2, "not a model").ToArray()));

    [Fact]
    public void ANodeReadingAMissingInitialiserNamesTheNodeAndTheValue()
    {
        var message = Invalid(Graph(g => g.Node("Identity", "reader", ["missing_weight"], ["y"])));
        Assert.Contains("Identity node 'reader' reads 'missing_weight'", message);
        Assert.Contains("not an input, an initialiser or any node's output", message);
    }

    [Fact]
    public void ACycleNamesItsNodes()
    {
        var message = Invalid(Graph(g => g
            .Node("Identity", "ping", ["x", "b"], ["a"])
            .Node("Identity", "pong", ["a"], ["b"])
            .Node("Identity", "out", ["b"], ["y"])));
        Assert.Contains("cycle", message);
        Assert.Contains("'ping'", message);
        Assert.Contains("'pong'", message);
    }

    [Fact]
    public void ANodeReadingItsOwnOutputIsACycle() =>
        Assert.Contains("cycle through Identity node 'self'", Invalid(Graph(g => g.Node("Identity", "self", ["y"], ["y"]))));

    [Fact]
    public void AValueDefinedTwiceNamesTheValueAndTheSecondNode()
    {
        var message = Invalid(Graph(g => g.Node("Identity", "one", ["x"], ["y"]).Node("Identity", "two", ["x"], ["y"])));
        Assert.Contains("value 'y' is defined twice (again by Identity node 'two' (opset 13))", message);
        Assert.Contains("initialiser 'w' is defined twice", Invalid(Graph(g => g.Floats("w", [1], 1f).Floats("w", [1], 2f).Node("Identity", "n", ["x"], ["y"]))));
        Assert.Contains("input 'x' is declared twice", Invalid(Graph(g => g.Input("x", 2).Node("Identity", "n", ["x"], ["y"]))));
    }

    [Fact]
    public void AGraphOutputNoNodeComputesIsNamed()
    {
        Assert.Contains("graph output 'y' is not computed by any node", Invalid(Graph(g => g.Node("Identity", "n", ["x"], ["z"]))));
        Assert.Contains("graph output 'y' is listed twice", Invalid(Graph(g => g.Output("y", 2).Node("Identity", "n", ["x"], ["y"]))));
    }

    [Fact]
    public void UnnamedValuesAndOpsAreRejected()
    {
        Assert.Contains("a graph output has no name", Invalid(Graph(g => g.Output("").Node("Identity", "n", ["x"], ["y"]))));
        Assert.Contains("an initialiser has no name", Invalid(Graph(g => g.Floats("", [1], 1f).Node("Identity", "n", ["x"], ["y"]))));
        Assert.Contains("node 'n' (byte ", Invalid(Graph(g => g.Node("", "n", ["x"], ["y"]))));
    }

    [Fact]
    public void AbsurdDimensionsAreRejectedBeforeAnyAllocation()
    {
        OnnxModel.Load(RawOnnx.IdentityChain());
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains("tensor 'w' (byte ", Invalid(Graph(g => g.Floats("w", [1L << 20, 1L << 20], 1f).Node("Identity", "n", ["x"], ["y"]))));
        Assert.Contains($"hold more than {int.MaxValue} elements", Invalid(Graph(g => g.Floats("w", [1L << 20, 1L << 20], 1f).Node("Identity", "n", ["x"], ["y"]))));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 256 * 1024, "2^40 declared elements must not be allocated");
        Assert.Contains("dimension -3 is out of range", Invalid(Graph(g => g.Floats("w", [-3], 1f).Node("Identity", "n", ["x"], ["y"]))));
        Assert.Contains("dimension 4294967296 is out of range", Invalid(Graph(g => g.Floats("w", [1L << 32], 1f).Node("Identity", "n", ["x"], ["y"]))));
        // each dimension fits in 32 bits, their product overflows 64
        long big = int.MaxValue;
        Assert.Contains("hold more than", Invalid(Graph(g => g.Floats("w", [big, big, big, big, big], 1f).Node("Identity", "n", ["x"], ["y"]))));
        // the declared input of a graph
        Assert.Contains("value 'x' (byte ", Invalid(RawOnnx.Model(g => g.Input("x", -1).Output("y", 2).Node("Identity", "n", ["x"], ["y"]))));
    }

    [Fact]
    public void DimensionsThatDoNotMatchTheDataAreNamed()
    {
        var message = Invalid(Graph(g => g.Floats("w", [2, 2], 1f, 2f, 3f).Node("Identity", "n", ["x"], ["y"])));
        Assert.Contains("tensor 'w'", message);
        Assert.Contains("dimensions [2, 2] need 4 elements, the data holds 3", message);
        // raw bytes that are not a whole number of int64s
        Assert.Contains("tensor 's'", Invalid(Graph(g => g.Tensor("s", RawOnnx.Int64, [1], new byte[7]).Node("Identity", "n", ["x"], ["y"]))));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(99)]
    [InlineData(-1)]
    public void AnInvalidDataTypeIsInvalidData(int type)
    {
        var message = Invalid(Graph(g => g.Tensor("w", type, [1], new byte[4]).Node("Identity", "n", ["x"], ["y"])));
        Assert.Contains($"tensor 'w' (byte ", message);
        Assert.Contains($"invalid data type {type}", message);
        // a value's elem_type may be left out (0: a sequence, say, which is unsupported rather than invalid)
        if (type != 0)
            Assert.Contains($"value 'x' (byte 12): invalid data type {type}", Invalid(RawOnnx.Model(g => g.Message(11, v => RawOnnx.ValueInfo(v, "x", type, [1])).Output("y", 1).Node("Identity", "n", ["x"], ["y"]))));
    }

    [Fact]
    public void AValidButUnsupportedDataTypeIsNotSupported() =>
        Assert.Contains("tensor 'w' (byte ", Unsupported(Graph(g => g.Tensor("w", RawOnnx.StringType, [1], new byte[1]).Node("Identity", "n", ["x"], ["y"]))));

    [Fact]
    public void AnUnsupportedOpNamesOpNodeAndOpset()
    {
        var message = Unsupported(Graph(g => g.Node("Frobnicate", "frob1", ["x"], ["y"]), opset: 17));
        Assert.Contains("odd.onnx: Frobnicate node 'frob1' (opset 17): this op is not supported", message);
        message = Unsupported(Graph(g => g.Node("Relu", "custom", ["x"], ["y"], n => n.String(7, "com.example"))));
        Assert.Contains("domain 'com.example'", message);
    }

    [Fact]
    public void AnUnreadAttributeIsNotSupported() =>
        Assert.Contains("Identity node 'n' (opset 13): attribute 'colour' is not supported",
            Unsupported(Graph(g => g.Node("Identity", "n", ["x"], ["y"], n => n.Message(5, a => a.String(1, "colour").Int(3, 1).Int(20, 2))))));

    [Fact]
    public void AnAttributeWithAnInvalidTypeOrNoNameIsInvalidData()
    {
        Assert.Contains("attribute 'colour' (byte ", Invalid(Graph(g => g.Node("Identity", "n", ["x"], ["y"], n => n.Message(5, a => a.String(1, "colour").Int(20, 77))))));
        Assert.Contains("has no name", Invalid(Graph(g => g.Node("Identity", "n", ["x"], ["y"], n => n.Message(5, a => a.Int(3, 1).Int(20, 2))))));
    }

    [Fact]
    public void ARequiredInputLeftOutNamesTheNode()
    {
        Assert.Contains("Identity node 'n' (opset 13): output 0 ('y') was not computed", Invalid(Graph(g => g.Node("Identity", "n", [""], ["y"]))));
        Assert.Contains("Identity node 'n' (opset 13): fewer inputs than the op needs", Invalid(Graph(g => g.Node("Identity", "n", [], ["y"]))));
        // on a constant, so the node runs at load time
        Assert.Contains("Identity node 'n' (opset 13): output 1 ('extra') is asked for, the op computes 1",
            Unsupported(Graph(g => g.Tensor("s", RawOnnx.Int64, [], new byte[8]).Node("Identity", "n", ["s"], ["y", "extra"]))));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(22)]
    public void AnOpsetOutsideTheSupportedRangeIsNotSupported(long opset) =>
        Assert.Contains($"opset {opset} is not supported (Fovea reads opsets 1 to 21)", Unsupported(Graph(g => g.Node("Identity", "n", ["x"], ["y"]), opset)));

    [Fact]
    public void AModelWithoutTheDefaultOpsetIsInvalid() =>
        Assert.Contains("imports no opset of the default ONNX domain",
            Invalid(new ProtoWriter().Int(1, 8).Message(7, g => g.Input("x", 1).Output("y", 1).Node("Identity", "n", ["x"], ["y"])).ToArray()));

    [Fact]
    public void AMissingOrUnreadableFileIsInvalidDataNamingThePath()
    {
        Assert.Contains("/no/such/model.onnx", Assert.Throws<InvalidDataException>(() => OnnxModel.Load("/no/such/model.onnx")).Message);
        Assert.Contains("/tmp", Assert.Throws<InvalidDataException>(() => OnnxModel.Load("/tmp")).Message);
    }
}
