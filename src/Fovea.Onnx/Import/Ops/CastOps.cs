namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// Cast between float32 and the integer and boolean types Fovea holds. Float to integer truncates toward
/// zero (as numpy and ONNX Runtime do for values in range), integer to integer keeps the low bits of the
/// target width (C's conversion), anything to bool is "not zero".
/// </summary>
internal static class CastOps
{
    [OnnxOp("Cast")]
    public static OnnxKernel Cast(OnnxNodeContext node)
    {
        if (!node.Has("to")) throw node.Invalid("attribute 'to' is required");
        var to = (OnnxDataType)node.Int("to", 0);
        if (!OnnxDataTypes.IsSupported(to)) throw node.Unsupported($"casting to {OnnxDataTypes.Name(to)} is not supported");
        // Opset 19's saturate applies to float8 targets only, which are rejected above.
        node.Ignore("saturate");
        return inputs => [Convert(inputs[0]!, to)];
    }

    public static OnnxValue Convert(OnnxValue x, OnnxDataType to)
    {
        if (x.Type == to) return x;
        if (x.Floats is { } t)
        {
            var floats = t.Span;
            var values = new long[floats.Length];
            for (int i = 0; i < values.Length; i++)
                // .NET's float→integer conversions saturate (NaN → 0); uint64 needs its own for values past long.MaxValue.
                values[i] = to == OnnxDataType.Bool ? (floats[i] != 0 ? 1 : 0) : to == OnnxDataType.UInt64 ? unchecked((long)(ulong)floats[i]) : Narrow((long)floats[i], to);
            return OnnxValue.Integer(to, values, x.Dims);
        }
        var integers = x.Integers!;
        if (to == OnnxDataType.Float)
        {
            var y = Tensor.Empty(x.Dims);
            var span = y.Span;
            for (int i = 0; i < integers.Length; i++) span[i] = x.Type == OnnxDataType.UInt64 ? (ulong)integers[i] : integers[i];
            return OnnxValue.Float(y);
        }
        return OnnxValue.Integer(to, integers.Select(v => Narrow(v, to)).ToArray(), x.Dims);
    }

    /// <summary>The value an integer takes in type <paramref name="to"/>: its low bits, read signed or unsigned; 0 or 1 for bool.</summary>
    private static long Narrow(long v, OnnxDataType to) => to switch
    {
        OnnxDataType.Bool => v != 0 ? 1 : 0,
        OnnxDataType.UInt8 => (byte)v,
        OnnxDataType.Int8 => (sbyte)v,
        OnnxDataType.UInt16 => (ushort)v,
        OnnxDataType.Int16 => (short)v,
        OnnxDataType.Int32 => (int)v,
        OnnxDataType.UInt32 => (uint)v,
        _ => v, // int64, and uint64 held in a long's bits
    };
}
