using System.Text;
using Fovea.Serialization;
using Fovea.Tests.Support;

namespace Fovea.Tests.Serialization;

public class SafeTensorsRoundTripTests
{
    public static TheoryData<DType> AllDTypes => [.. Enum.GetValues<DType>()];

    /// <summary>Values every dtype holds exactly: small integers (non-negative for unsigned, 0/1 for BOOL) or short binary fractions.</summary>
    private static float[] ExactValuesFor(DType dtype) => dtype switch
    {
        DType.Bool => [0, 1, 1, 0, 1, 0],
        DType.U8 or DType.U16 or DType.U32 or DType.U64 => [0, 1, 2, 3, 200, 7],
        _ when dtype.IsInteger() => [0, -1, 2, -128, 127, 7],
        _ => [0.5f, -1.25f, 3, -0f, 96, 0.0078125f],
    };

    [Theory]
    [MemberData(nameof(AllDTypes))]
    public void EveryDTypeRoundTripsExactly(DType dtype)
    {
        var values = ExactValuesFor(dtype);
        using var t = Tensor.FromArray(values, 2, 3);
        var file = SafeTensors.Load(SafeTensorsBytes.Serialize(new Dictionary<string, Tensor> { ["x"] = t }, dtypeOf: _ => dtype));

        var e = file["x"];
        Assert.Equal(dtype, e.DType);
        Assert.Equal(new TensorShape(2, 3), e.Shape);
        Assert.Equal(6L * dtype.Size(), e.ByteLength);
        using var back = file.ToTensor("x");
        TensorAssert.Equal(t, back);
        if (dtype.IsInteger()) Assert.Equal(values.Select(v => (long)v), file.ReadInt64("x"));
    }

    [Fact]
    public void IntegerExtremesRoundTripExactly()
    {
        using var i64 = Tensor.FromArray([-(float)Math.Pow(2, 63), (float)Math.Pow(2, 62), -3], 3);
        using var u8 = Tensor.FromArray([0, 255], 2);
        using var i8 = Tensor.FromArray([-128, 127], 2);
        var file = SafeTensors.Load(SafeTensorsBytes.Serialize(new Dictionary<string, Tensor> { ["i64"] = i64, ["u8"] = u8, ["i8"] = i8 },
            dtypeOf: n => Enum.Parse<DType>(n, ignoreCase: true)));
        Assert.Equal([long.MinValue, 1L << 62, -3], file.ReadInt64("i64"));
        Assert.Equal([0L, 255], file.ReadInt64("u8"));
        Assert.Equal([-128L, 127], file.ReadInt64("i8"));
    }

    [Theory]
    [InlineData(DType.I64, 0.5f)]
    [InlineData(DType.U8, 256f)]
    [InlineData(DType.U8, -1f)]
    [InlineData(DType.I32, float.NaN)]
    [InlineData(DType.Bool, 2f)]
    public void IntegerDTypeRefusesValuesItCannotHold(DType dtype, float value)
    {
        using var t = Tensor.FromArray([1, value], 2);
        var e = Assert.Throws<ArgumentException>(() => SafeTensorsBytes.Serialize(new Dictionary<string, Tensor> { ["counts"] = t }, dtypeOf: _ => dtype));
        Assert.Contains("'counts'", e.Message);
        Assert.Contains("element 1", e.Message);
    }

    [Fact]
    public void EveryHalfValueRoundTripsThroughF16()
    {
        var values = Enumerable.Range(0, 65536).Select(b => (float)BitConverter.UInt16BitsToHalf((ushort)b)).Where(v => !float.IsNaN(v)).ToArray();
        AssertRoundTripsBitwise(values, DType.F16);
    }

    [Fact]
    public void EveryBFloat16ValueRoundTripsThroughBF16()
    {
        var values = Enumerable.Range(0, 65536).Select(b => BitConverter.UInt32BitsToSingle((uint)b << 16)).Where(v => !float.IsNaN(v)).ToArray();
        AssertRoundTripsBitwise(values, DType.BF16);
    }

    private static void AssertRoundTripsBitwise(float[] values, DType dtype)
    {
        using var t = Tensor.FromArray(values, values.Length);
        using var back = SafeTensors.Load(SafeTensorsBytes.Serialize(new Dictionary<string, Tensor> { ["v"] = t }, dtypeOf: _ => dtype)).ToTensor("v");
        TensorAssert.Equal(t, back);
    }

    [Theory]
    [InlineData(0x3F808000u, (ushort)0x3F80)] // halfway, even neighbour below
    [InlineData(0x3F818000u, (ushort)0x3F82)] // halfway, even neighbour above
    [InlineData(0x3F808001u, (ushort)0x3F81)] // just above halfway
    [InlineData(0x3F807FFFu, (ushort)0x3F80)] // just below halfway
    [InlineData(0x7F7FFFFFu, (ushort)0x7F80)] // float max rounds up to infinity
    [InlineData(0x80000000u, (ushort)0x8000)] // -0 keeps its sign
    [InlineData(0x00000001u, (ushort)0x0000)] // smallest subnormal rounds to zero
    public void BFloat16WritingRoundsToNearestEven(uint floatBits, ushort expected)
    {
        Assert.Equal(expected, DTypeConversion.ToBFloat16(BitConverter.UInt32BitsToSingle(floatBits)));
    }

    [Fact]
    public void BFloat16WritingKeepsNaN()
    {
        Assert.True(float.IsNaN(DTypeConversion.FromBFloat16(DTypeConversion.ToBFloat16(float.NaN))));
        // A NaN whose payload lives only in the low 16 bits must not truncate to infinity.
        Assert.True(float.IsNaN(DTypeConversion.FromBFloat16(DTypeConversion.ToBFloat16(BitConverter.UInt32BitsToSingle(0x7F800001)))));
    }

    [Fact]
    public void BFloat16WritingPicksTheNearestNeighbourForRandomFloats()
    {
        var rng = new Rng(11);
        for (int i = 0; i < 20000; i++)
        {
            float v = BitConverter.UInt32BitsToSingle(rng.NextUInt() & 0x7F7FFFFF); // finite, non-negative
            ushort b = DTypeConversion.ToBFloat16(v);
            double below = DTypeConversion.FromBFloat16((ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)), above = NextUp(below);
            // Past the largest bfloat16, IEEE rounding treats infinity as the next step, 2^128.
            double dBelow = v - below, dAbove = (double.IsInfinity(above) ? Math.Pow(2, 128) : above) - v;
            double expected = dBelow < dAbove ? below : dAbove < dBelow ? above : ((BitConverter.SingleToUInt32Bits((float)below) >> 16) & 1) == 0 ? below : above;
            Assert.Equal(expected, DTypeConversion.FromBFloat16(b));
        }
    }

    private static double NextUp(double bf16) => DTypeConversion.FromBFloat16((ushort)((BitConverter.SingleToUInt32Bits((float)bf16) >> 16) + 1));

    [Fact]
    public void MetadataRoundTrips()
    {
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["arch"] = "{\"type\": \"Sequential\"}", ["unicode ✓"] = "ü\n\"quoted\"" };
        var file = SafeTensors.Load(SafeTensorsBytes.Serialize(new Dictionary<string, Tensor>(), metadata));
        Assert.Equal(metadata.OrderBy(kv => kv.Key), file.Metadata.OrderBy(kv => kv.Key));
        Assert.Empty(file.Names);
    }

    [Fact]
    public void EmptyDictionaryMatchesTheReferenceBytes()
    {
        // The reference implementation's own test vectors (tensor.rs, test_empty).
        Assert.Equal([8, 0, 0, 0, 0, 0, 0, 0, .. "{}      "u8], SafeTensorsBytes.Serialize(new Dictionary<string, Tensor>()));
        Assert.Equal([40, 0, 0, 0, 0, 0, 0, 0, .. "{\"__metadata__\":{\"framework\":\"pt\"}}     "u8],
            SafeTensorsBytes.Serialize(new Dictionary<string, Tensor>(), new Dictionary<string, string> { ["framework"] = "pt" }));
    }

    [Fact]
    public void SingleTensorMatchesTheReferenceBytes()
    {
        // tensor.rs, test_serialization_forced_alignement: the header is padded with spaces to 72 bytes.
        using var t = Tensor.FromArray([0, 1, 2, 3, 4, 5], 1, 1, 2, 3);
        byte[] expected = [72, 0, 0, 0, 0, 0, 0, 0, .. "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       "u8,
            0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64];
        Assert.Equal(expected, SafeTensorsBytes.Serialize(new Dictionary<string, Tensor> { ["attn0"] = t }));
    }

    [Fact]
    public void ScalarsAndZeroSizeTensorsRoundTrip()
    {
        using var scalar = Tensor.Scalar(7);
        using var empty = Tensor.Zeros(0, 3);
        using var empty2 = Tensor.Zeros(2, 0);
        var file = SafeTensors.Load(SafeTensorsBytes.Serialize(new Dictionary<string, Tensor> { ["bn.num_batches_tracked"] = scalar, ["a"] = empty, ["b"] = empty2 },
            dtypeOf: n => n.EndsWith("tracked") ? DType.I64 : DType.F32));
        Assert.Equal(new TensorShape(), file["bn.num_batches_tracked"].Shape);
        Assert.Equal([7L], file.ReadInt64("bn.num_batches_tracked"));
        Assert.Equal(new TensorShape(0, 3), file.ToTensor("a").Shape);
        Assert.Equal(new TensorShape(2, 0), file.ToTensor("b").Shape);
        Assert.Equal(0, file["a"].ByteLength);
    }

    [Fact]
    public void TensorsAreWrittenByDescendingDTypeThenName()
    {
        using var t = Tensor.Ones(2);
        var dtypes = new Dictionary<string, DType> { ["z"] = DType.F16, ["b"] = DType.F32, ["a"] = DType.F32, ["step"] = DType.I64, ["y"] = DType.BF16, ["flag"] = DType.Bool };
        var bytes = SafeTensorsBytes.Serialize(dtypes.Keys.ToDictionary(k => k, _ => t), dtypeOf: n => dtypes[n]);
        var file = SafeTensors.Load(bytes);
        Assert.Equal(["step", "a", "b", "y", "z", "flag"], file.Names);
        long dataStart = 8 + (long)BitConverter.ToUInt64(bytes, 0);
        Assert.All(file.Entries, e => Assert.Equal(0, (dataStart + e.Begin) % e.DType.Size()));
    }

    [Fact]
    public void HeaderIsPaddedToAMultipleOfEight()
    {
        for (int nameLength = 1; nameLength <= 9; nameLength++)
        {
            using var t = Tensor.Ones(1);
            var bytes = SafeTensorsBytes.Serialize(new Dictionary<string, Tensor> { [new string('w', nameLength)] = t });
            Assert.Equal(0UL, BitConverter.ToUInt64(bytes, 0) % 8);
        }
    }

    [Fact]
    public void ReservedNameIsRefused()
    {
        using var t = Tensor.Ones(1);
        Assert.Throws<ArgumentException>(() => SafeTensorsBytes.Serialize(new Dictionary<string, Tensor> { ["__metadata__"] = t }));
    }

    [Fact]
    public void FileAndStreamOverloadsRoundTrip()
    {
        using var folder = new TempFolder();
        using var t = Tensor.FromArray([1, 2, 3, 4], 2, 2);
        string path = folder.File("model.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = t }, new Dictionary<string, string> { ["k"] = "v" });

        var fromPath = SafeTensors.Load(path);
        Assert.Equal(path, fromPath.Source);
        TensorAssert.Equal(t, fromPath.ToTensors()["w"]);
        Assert.Equal("v", fromPath.Metadata["k"]);

        using var unseekable = new UnseekableStream(File.ReadAllBytes(path));
        TensorAssert.Equal(t, SafeTensors.Load(unseekable).ToTensor("w"));
    }

    [Fact]
    public void UnknownNameAndWrongReaderAreUsageErrors()
    {
        using var t = Tensor.Ones(1);
        var file = SafeTensors.Load(SafeTensorsBytes.Serialize(new Dictionary<string, Tensor> { ["w"] = t }));
        Assert.Contains("'nope'", Assert.Throws<KeyNotFoundException>(() => file.ToTensor("nope")).Message);
        Assert.Throws<InvalidOperationException>(() => file.ReadInt64("w"));
    }

    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
    }
}
