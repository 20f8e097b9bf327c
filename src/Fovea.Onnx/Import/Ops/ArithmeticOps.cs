namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// Add, Sub, Mul and Div with NumPy broadcasting: float32 through F (differentiable), integers exactly in
/// 64 bits and wrapped to their type's range as ONNX Runtime's fixed-width arithmetic does.
/// </summary>
internal static class ArithmeticOps
{
    private enum Operation { Add, Sub, Mul, Div }

    /// <summary>
    /// Opset 6 broadcasts only when told (broadcast = 1), and then stretches B to A's shape, aligning B's
    /// dimensions from `axis` on (default: with A's trailing dimensions); from opset 7 both operands broadcast.
    /// </summary>
    [OnnxOp("Add", "Sub", "Mul", "Div")]
    public static OnnxKernel Arithmetic(OnnxNodeContext node)
    {
        var op = Enum.Parse<Operation>(node.OpType);
        bool legacy = node.Opset < 7, broadcast = legacy && node.Int("broadcast", 0) != 0;
        long? axis = legacy && node.Has("axis") ? node.Int("axis", 0) : null;
        return inputs =>
        {
            var a = inputs[0]!;
            var b = inputs[1]!;
            if (a.Type != b.Type) throw new ArgumentException($"A ({a}) and B ({b}) must have the same type");
            var aligned = legacy ? LegacyAligned(a, b, broadcast, axis) : b;
            if (!a.IsFloat) return [Integers(op, a, aligned)];
            return [OnnxValue.Float(Temporaries.Release(Floats(op, a.Floats!, aligned.Floats!), [a.Floats, b.Floats], aligned.Floats))];
        };
    }

    private static Tensor Floats(Operation op, Tensor a, Tensor b) => op switch
    {
        Operation.Add => F.Add(a, b),
        Operation.Sub => F.Sub(a, b),
        Operation.Mul => F.Mul(a, b),
        _ => F.Div(a, b),
    };

    /// <summary>B reshaped so that NumPy broadcasting does what opset 6 meant, after checking that it reaches A's shape.</summary>
    private static OnnxValue LegacyAligned(OnnxValue a, OnnxValue b, bool broadcast, long? axis)
    {
        if (!broadcast)
        {
            if (!a.Dims.SequenceEqual(b.Dims)) throw new ArgumentException($"A {TensorShape.Format(a.Dims)} and B {TensorShape.Format(b.Dims)} differ and broadcast is 0");
            return b;
        }
        int[] dims = b.Dims;
        if (axis is long given)
        {
            long start = given < 0 ? given + a.Dims.Length : given;
            if (start < 0 || start + b.Dims.Length > a.Dims.Length)
                throw new ArgumentException($"B {TensorShape.Format(b.Dims)} does not fit in A {TensorShape.Format(a.Dims)} from axis {given}");
            dims = [.. b.Dims, .. Enumerable.Repeat(1, a.Dims.Length - (int)start - b.Dims.Length)];
        }
        if (!Broadcasting.Reaches(dims, a.Dims))
            throw new ArgumentException($"B {TensorShape.Format(b.Dims)} does not broadcast to A {TensorShape.Format(a.Dims)}" + (axis is null ? "" : $" from axis {axis}"));
        if (dims.AsSpan().SequenceEqual(b.Dims)) return b;
        return b.IsFloat ? OnnxValue.Float(F.Reshape(b.Floats!, dims)) : OnnxValue.Integer(b.Type, b.Integers!, dims);
    }

    private static OnnxValue Integers(Operation op, OnnxValue a, OnnxValue b)
    {
        if (a.Type == OnnxDataType.Bool) throw new ArgumentException($"{op} does not take bool tensors");
        var dims = Broadcasting.Shape(a.Dims, b.Dims)
            ?? throw new ArgumentException($"shapes {TensorShape.Format(a.Dims)} and {TensorShape.Format(b.Dims)} do not broadcast (each dimension, aligned from the right, must match or be 1)");
        int[] aStrides = Broadcasting.Strides(a.Dims, dims), bStrides = Broadcasting.Strides(b.Dims, dims);
        long[] x = a.Integers!, y = b.Integers!;
        long count = OnnxValue.ElementCount(dims);
        if (count < 0) throw new ArgumentException($"the result {TensorShape.Format(dims)} has too many elements");
        var result = new long[count];
        for (int i = 0; i < result.Length; i++)
            result[i] = Wrap(Apply(op, x[Broadcasting.Offset(i, dims, aStrides)], y[Broadcasting.Offset(i, dims, bStrides)], a.Type), a.Type);
        return OnnxValue.Integer(a.Type, result, dims);
    }

    /// <summary>One integer operation; division truncates toward zero, and uint64 (held as its 64 bits) divides unsigned.</summary>
    private static long Apply(Operation op, long x, long y, OnnxDataType type) => unchecked(op switch
    {
        Operation.Add => x + y,
        Operation.Sub => x - y,
        Operation.Mul => x * y,
        _ when y == 0 => throw new ArgumentException("integer division by zero"),
        _ when type == OnnxDataType.UInt64 => (long)((ulong)x / (ulong)y),
        _ => x == long.MinValue && y == -1 ? long.MinValue : x / y,
    });

    /// <summary>The value a fixed-width integer of <paramref name="type"/> holds after the operation overflowed.</summary>
    private static long Wrap(long v, OnnxDataType type) => unchecked(type switch
    {
        OnnxDataType.UInt8 => (byte)v,
        OnnxDataType.Int8 => (sbyte)v,
        OnnxDataType.UInt16 => (ushort)v,
        OnnxDataType.Int16 => (short)v,
        OnnxDataType.UInt32 => (uint)v,
        OnnxDataType.Int32 => (int)v,
        _ => v,
    });
}
