using System.Buffers.Binary;
using System.Text;

namespace Fovea.Onnx;

/// <summary>
/// The protobuf wire format, just what ONNX's messages need: varints (wire type 0), 32-bit floats
/// (type 5) and length-delimited bytes, strings and nested messages (type 2). Hand-rolled rather than
/// Google.Protobuf with generated classes: writing needs these ~60 lines only, and Fovea.Onnx stays free
/// of dependencies and of a generated copy of onnx.proto.
/// </summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream _buffer = new();

    public byte[] ToArray() => _buffer.ToArray();

    public ProtoWriter Int(int field, long value)
    {
        Tag(field, 0);
        Varint((ulong)value);
        return this;
    }

    public ProtoWriter Float(int field, float value)
    {
        Tag(field, 5);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        _buffer.Write(bytes);
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, 2);
        Varint((ulong)value.Length);
        _buffer.Write(value);
        return this;
    }

    /// <summary>A nested message, written by <paramref name="body"/> into its own buffer first (its length comes before it).</summary>
    public ProtoWriter Message(int field, Action<ProtoWriter> body)
    {
        var nested = new ProtoWriter();
        body(nested);
        return Bytes(field, nested.ToArray());
    }

    /// <summary>A repeated integer field, one entry per value (protobuf parsers accept it packed or not).</summary>
    public ProtoWriter Ints(int field, IEnumerable<long> values)
    {
        foreach (long v in values) Int(field, v);
        return this;
    }

    private void Tag(int field, int wireType) => Varint((ulong)(field << 3 | wireType));

    private void Varint(ulong value)
    {
        while (value >= 0x80)
        {
            _buffer.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        _buffer.WriteByte((byte)value);
    }
}
