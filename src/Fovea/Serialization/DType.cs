namespace Fovea.Serialization;

/// <summary>
/// Element types of a safetensors file. The declaration order is the reference implementation's
/// (huggingface/safetensors), which grows with alignment: writers sort tensors by it, largest first,
/// so every tensor's data starts aligned to its element size.
/// </summary>
public enum DType
{
    Bool,
    U8,
    I8,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    F64,
    I64,
    U64,
}

/// <summary>Facts about a <see cref="DType"/> as the safetensors format spells and sizes it.</summary>
public static class DTypes
{
    /// <summary>Bytes per element.</summary>
    public static int Size(this DType dtype) => dtype switch
    {
        DType.Bool or DType.U8 or DType.I8 => 1,
        DType.I16 or DType.U16 or DType.F16 or DType.BF16 => 2,
        DType.I32 or DType.U32 or DType.F32 => 4,
        DType.F64 or DType.I64 or DType.U64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Not a safetensors dtype."),
    };

    /// <summary>The name in a safetensors header ("F32", "BOOL", …).</summary>
    public static string HeaderName(this DType dtype) => dtype == DType.Bool ? "BOOL" : dtype.ToString();

    /// <summary>Whether the elements are integers (or booleans) that <c>ReadInt64</c> returns exactly.</summary>
    public static bool IsInteger(this DType dtype) => dtype is not (DType.F16 or DType.BF16 or DType.F32 or DType.F64);

    /// <summary>Parses a header name, case-sensitively as the format defines them.</summary>
    public static bool TryParseHeaderName(string name, out DType dtype)
    {
        foreach (var d in Enum.GetValues<DType>())
            if (d.HeaderName() == name)
            {
                dtype = d;
                return true;
            }
        dtype = default;
        return false;
    }

    /// <summary>The header names Fovea reads, for error messages.</summary>
    public static string Supported => string.Join(", ", Enum.GetValues<DType>().Select(d => d.HeaderName()));
}
