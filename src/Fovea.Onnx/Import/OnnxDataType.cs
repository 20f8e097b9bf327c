namespace Fovea.Onnx.Import;

/// <summary>ONNX's TensorProto.DataType codes, for the types Fovea's importer reads.</summary>
public enum OnnxDataType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    BFloat16 = 16,
}

internal static class OnnxDataTypes
{
    /// <summary>Integer and boolean types, held exactly as <see cref="long"/>s by <see cref="OnnxValue"/>.</summary>
    public static bool IsInteger(OnnxDataType t) => t is OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.UInt16
        or OnnxDataType.Int16 or OnnxDataType.Int32 or OnnxDataType.Int64 or OnnxDataType.Bool or OnnxDataType.UInt32 or OnnxDataType.UInt64;

    /// <summary>Whether Fovea can hold values of this type (float32, and integers as int64).</summary>
    public static bool IsSupported(OnnxDataType t) => t == OnnxDataType.Float || IsInteger(t);

    /// <summary>Bytes per element in raw_data; 0 for types without a fixed width.</summary>
    public static int Width(OnnxDataType t) => t switch
    {
        OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.Bool => 1,
        OnnxDataType.UInt16 or OnnxDataType.Int16 or OnnxDataType.Float16 or OnnxDataType.BFloat16 => 2,
        OnnxDataType.Float or OnnxDataType.Int32 or OnnxDataType.UInt32 => 4,
        OnnxDataType.Int64 or OnnxDataType.UInt64 or OnnxDataType.Double => 8,
        _ => 0,
    };

    public static string Name(OnnxDataType t) => Enum.IsDefined(t) ? t.ToString().ToLowerInvariant() : $"data type {(int)t}";
}
