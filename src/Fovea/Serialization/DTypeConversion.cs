using System.Buffers.Binary;

namespace Fovea.Serialization;

/// <summary>
/// Converts little-endian safetensors elements to and from float32. The switch sits outside the loops
/// so each loop is a tight conversion the JIT can vectorise or at least keep branch-free.
/// </summary>
internal static class DTypeConversion
{
    /// <summary>Decodes <paramref name="dst"/>.Length elements. Integers beyond 2^24 round to the nearest float.</summary>
    public static void ToFloat(DType dtype, ReadOnlySpan<byte> src, Span<float> dst)
    {
        switch (dtype)
        {
            case DType.F32: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(4 * i)..]); break;
            case DType.F64: for (int i = 0; i < dst.Length; i++) dst[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(src[(8 * i)..]); break;
            case DType.F16: for (int i = 0; i < dst.Length; i++) dst[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(src[(2 * i)..]); break;
            case DType.BF16: for (int i = 0; i < dst.Length; i++) dst[i] = FromBFloat16(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..])); break;
            case DType.I64: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadInt64LittleEndian(src[(8 * i)..]); break;
            case DType.U64: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadUInt64LittleEndian(src[(8 * i)..]); break;
            case DType.I32: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadInt32LittleEndian(src[(4 * i)..]); break;
            case DType.U32: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadUInt32LittleEndian(src[(4 * i)..]); break;
            case DType.I16: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadInt16LittleEndian(src[(2 * i)..]); break;
            case DType.U16: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]); break;
            case DType.I8: for (int i = 0; i < dst.Length; i++) dst[i] = (sbyte)src[i]; break;
            case DType.U8: for (int i = 0; i < dst.Length; i++) dst[i] = src[i]; break;
            // PyTorch stores true as 1 but any non-zero byte reads as true there too.
            case DType.Bool: for (int i = 0; i < dst.Length; i++) dst[i] = src[i] != 0 ? 1f : 0f; break;
            default: throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null);
        }
    }

    /// <summary>
    /// Decodes integer elements exactly. Returns the index of the first U64 value above
    /// <see cref="long.MaxValue"/> (which has no Int64 form), or -1 when all fit.
    /// </summary>
    public static int ToInt64(DType dtype, ReadOnlySpan<byte> src, Span<long> dst)
    {
        switch (dtype)
        {
            case DType.I64: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadInt64LittleEndian(src[(8 * i)..]); break;
            case DType.U64:
                for (int i = 0; i < dst.Length; i++)
                {
                    ulong v = BinaryPrimitives.ReadUInt64LittleEndian(src[(8 * i)..]);
                    if (v > long.MaxValue) return i;
                    dst[i] = (long)v;
                }
                break;
            case DType.I32: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadInt32LittleEndian(src[(4 * i)..]); break;
            case DType.U32: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadUInt32LittleEndian(src[(4 * i)..]); break;
            case DType.I16: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadInt16LittleEndian(src[(2 * i)..]); break;
            case DType.U16: for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]); break;
            case DType.I8: for (int i = 0; i < dst.Length; i++) dst[i] = (sbyte)src[i]; break;
            case DType.U8: for (int i = 0; i < dst.Length; i++) dst[i] = src[i]; break;
            case DType.Bool: for (int i = 0; i < dst.Length; i++) dst[i] = src[i] != 0 ? 1 : 0; break;
            default: throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Not an integer dtype.");
        }
        return -1;
    }

    /// <summary>
    /// Encodes float32 values. Floating types round to nearest even (as PyTorch's casts do); integer
    /// types must receive exact integers in range. Returns the index of the first value that has no
    /// exact integer form, or -1 when all were written.
    /// </summary>
    public static int FromFloat(DType dtype, ReadOnlySpan<float> src, Span<byte> dst)
    {
        switch (dtype)
        {
            case DType.F32: for (int i = 0; i < src.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(dst[(4 * i)..], src[i]); return -1;
            case DType.F64: for (int i = 0; i < src.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(dst[(8 * i)..], src[i]); return -1;
            case DType.F16: for (int i = 0; i < src.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(dst[(2 * i)..], (Half)src[i]); return -1;
            case DType.BF16: for (int i = 0; i < src.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(dst[(2 * i)..], ToBFloat16(src[i])); return -1;
        }
        var (low, highExclusive) = IntegerRange(dtype);
        for (int i = 0; i < src.Length; i++)
        {
            float v = src[i];
            if (!float.IsInteger(v) || v < low || v >= highExclusive) return i;
            switch (dtype)
            {
                case DType.I64: BinaryPrimitives.WriteInt64LittleEndian(dst[(8 * i)..], (long)v); break;
                case DType.U64: BinaryPrimitives.WriteUInt64LittleEndian(dst[(8 * i)..], (ulong)v); break;
                case DType.I32: BinaryPrimitives.WriteInt32LittleEndian(dst[(4 * i)..], (int)v); break;
                case DType.U32: BinaryPrimitives.WriteUInt32LittleEndian(dst[(4 * i)..], (uint)v); break;
                case DType.I16: BinaryPrimitives.WriteInt16LittleEndian(dst[(2 * i)..], (short)v); break;
                case DType.U16: BinaryPrimitives.WriteUInt16LittleEndian(dst[(2 * i)..], (ushort)v); break;
                default: dst[i] = unchecked((byte)(int)v); break; // I8 (two's complement), U8, BOOL
            }
        }
        return -1;
    }

    /// <summary>The values an integer dtype holds, as [low, highExclusive).</summary>
    public static (double Low, double HighExclusive) IntegerRange(DType dtype) => dtype switch
    {
        DType.Bool => (0, 2),
        DType.U8 => (0, 256),
        DType.I8 => (-128, 128),
        DType.I16 => (short.MinValue, 32768),
        DType.U16 => (0, 65536),
        DType.I32 => (int.MinValue, 2147483648d),
        DType.U32 => (0, 4294967296d),
        DType.I64 => (long.MinValue, 9223372036854775808d),
        DType.U64 => (0, 18446744073709551616d),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Not an integer dtype."),
    };

    public static float FromBFloat16(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>Rounds to the nearest bfloat16, ties to even; NaN stays NaN (made quiet so truncation cannot turn it into infinity).</summary>
    public static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040);
        uint roundingBias = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + roundingBias) >> 16);
    }
}
