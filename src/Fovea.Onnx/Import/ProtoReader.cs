using System.Buffers.Binary;
using System.Text;

namespace Fovea.Onnx.Import;

/// <summary>
/// Reads the protobuf wire format over a byte range: the mirror of <see cref="ProtoWriter"/>, plus the
/// wire types a reader must skip (64-bit, and groups, which ONNX never uses and are rejected). Every read
/// is bounds-checked and every failure is an <see cref="InvalidDataException"/> naming the byte offset,
/// so a damaged file can never read out of range, loop or allocate more than it holds.
/// </summary>
internal sealed class ProtoReader(ReadOnlyMemory<byte> data, int baseOffset = 0)
{
    private int _position;

    /// <summary>Where the next read starts, counted from the start of the file.</summary>
    public int Offset => baseOffset + _position;

    public bool AtEnd => _position >= data.Length;

    /// <summary>Reads the next field's tag; false at the end of the message.</summary>
    public bool Next(out int field, out int wireType)
    {
        field = wireType = 0;
        if (AtEnd) return false;
        int at = Offset;
        ulong tag = Varint();
        field = (int)Math.Min(tag >> 3, int.MaxValue);
        wireType = (int)(tag & 7);
        if (field == 0) throw Damaged(at, "field number 0");
        return true;
    }

    public ulong Varint()
    {
        ulong value = 0;
        var span = data.Span;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_position >= span.Length) throw Damaged(Offset, "varint runs past the end of its message");
            byte b = span[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw Damaged(Offset, "varint longer than 10 bytes");
    }

    public long Int64() => (long)Varint();

    /// <summary>An int32 field (a data type code, say) that must fit in 32 bits.</summary>
    public int Int32()
    {
        int at = Offset;
        long v = Int64();
        return v is >= int.MinValue and <= int.MaxValue ? (int)v : throw Damaged(at, $"value {v} does not fit in 32 bits");
    }

    public float Fixed32Float() => BinaryPrimitives.ReadSingleLittleEndian(Take(4).Span);

    public double Fixed64Double() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8).Span);

    /// <summary>A length-delimited field's bytes.</summary>
    public ReadOnlyMemory<byte> Bytes()
    {
        int at = Offset;
        ulong length = Varint();
        if (length > (ulong)(data.Length - _position))
            throw Damaged(at, $"length {length} runs past the end of its message ({data.Length - _position} bytes left)");
        return Take((int)length);
    }

    public string String() => Encoding.UTF8.GetString(Bytes().Span);

    /// <summary>A nested message, read by its own reader that keeps file offsets.</summary>
    public ProtoReader Message()
    {
        var bytes = Bytes();
        return new ProtoReader(bytes, Offset - bytes.Length);
    }

    /// <summary>A repeated int64 field, packed (wire type 2) or one value per tag (wire type 0).</summary>
    public void Int64s(int wireType, List<long> into)
    {
        if (wireType == 0)
        {
            into.Add(Int64());
            return;
        }
        ExpectWireType(wireType, 2, "repeated integer");
        var packed = Message();
        while (!packed.AtEnd) into.Add(packed.Int64());
    }

    /// <summary>A repeated float field, packed (wire type 2) or one value per tag (wire type 5).</summary>
    public void Floats(int wireType, List<float> into)
    {
        if (wireType == 5)
        {
            into.Add(Fixed32Float());
            return;
        }
        ExpectWireType(wireType, 2, "repeated float");
        var packed = Bytes();
        if (packed.Length % 4 != 0) throw Damaged(Offset, $"packed floats of {packed.Length} bytes (not a multiple of 4)");
        for (int i = 0; i < packed.Length; i += 4) into.Add(BinaryPrimitives.ReadSingleLittleEndian(packed.Span[i..]));
    }

    /// <summary>A repeated double field, packed or not.</summary>
    public void Doubles(int wireType, List<double> into)
    {
        if (wireType == 1)
        {
            into.Add(Fixed64Double());
            return;
        }
        ExpectWireType(wireType, 2, "repeated double");
        var packed = Bytes();
        if (packed.Length % 8 != 0) throw Damaged(Offset, $"packed doubles of {packed.Length} bytes (not a multiple of 8)");
        for (int i = 0; i < packed.Length; i += 8) into.Add(BinaryPrimitives.ReadDoubleLittleEndian(packed.Span[i..]));
    }

    /// <summary>Fails unless the field has the wire type its meaning needs (a string sent as a varint, say).</summary>
    public void ExpectWireType(int actual, int expected, string what)
    {
        if (actual != expected) throw Damaged(Offset, $"{what} field has wire type {actual}, expected {expected}");
    }

    /// <summary>Skips a field this reader does not use.</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case 0: Varint(); break;
            case 1: Take(8); break;
            case 2: Bytes(); break;
            case 5: Take(4); break;
            default: throw Damaged(Offset, $"unsupported wire type {wireType}");
        }
    }

    private ReadOnlyMemory<byte> Take(int count)
    {
        if (count > data.Length - _position) throw Damaged(Offset, $"{count} bytes wanted, {data.Length - _position} left in the message");
        var slice = data.Slice(_position, count);
        _position += count;
        return slice;
    }

    private static InvalidDataException Damaged(int offset, string problem) => new($"byte {offset}: {problem}");
}
