namespace Fovea.Serialization;

/// <summary>
/// One tensor's header record: its element type, shape and where its bytes lie in the data buffer
/// (<see cref="Begin"/> and <see cref="End"/> are relative to the first byte after the header, as in the file).
/// </summary>
public sealed record SafeTensorsEntry(string Name, DType DType, TensorShape Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
}
