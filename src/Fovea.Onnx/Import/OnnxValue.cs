namespace Fovea.Onnx.Import;

/// <summary>
/// A value flowing through an imported graph: float32 data in a Fovea <see cref="Fovea.Tensor"/> (so
/// the fast kernels and autograd apply), or integers and booleans as exact <see cref="long"/>s — the
/// shapes, indices and masks that exporters compute around a Reshape.
/// </summary>
public sealed class OnnxValue
{
    private OnnxValue(OnnxDataType type, int[] dims, Tensor? floats, long[]? integers)
    {
        Type = type;
        Dims = dims;
        Floats = floats;
        Integers = integers;
    }

    public OnnxDataType Type { get; }

    /// <summary>The dimensions; empty for a scalar.</summary>
    public int[] Dims { get; }

    /// <summary>The data of a float32 value; null otherwise.</summary>
    public Tensor? Floats { get; }

    /// <summary>The data of an integer or boolean value (row-major); null for float32.</summary>
    public long[]? Integers { get; }

    public int Length => Floats?.Length ?? Integers!.Length;

    public bool IsFloat => Floats is not null;

    /// <summary>
    /// For activations held in channel blocks between convs that take them so (<see cref="InferenceRewrite.BlockedOutput"/>):
    /// their channel count, <see cref="Floats"/> being [N, ⌈C / 16⌉, H, W, 16] and <see cref="Dims"/> [N, C, H, W]; 0 for
    /// every other value.
    /// </summary>
    internal int BlockedChannels { get; private init; }

    public static OnnxValue Float(Tensor t) => new(OnnxDataType.Float, t.Shape.ToArray(), t, null);

    /// <summary>Activations of <paramref name="channels"/> channels in channel blocks [N, ⌈C / 16⌉, H, W, 16].</summary>
    internal static OnnxValue InChannelBlocks(Tensor blocks, int channels) =>
        new(OnnxDataType.Float, [blocks.Shape[0], channels, blocks.Shape[2], blocks.Shape[3]], blocks, null) { BlockedChannels = channels };

    public static OnnxValue Integer(OnnxDataType type, long[] values, int[] dims)
    {
        if (!OnnxDataTypes.IsInteger(type)) throw new ArgumentException($"OnnxValue: {OnnxDataTypes.Name(type)} is not an integer type");
        if (values.Length != ElementCount(dims)) throw new ArgumentException($"OnnxValue: {values.Length} values for dimensions {TensorShape.Format(dims)}");
        return new(type, dims, null, values);
    }

    public static OnnxValue Int64s(params long[] values) => Integer(OnnxDataType.Int64, values, [values.Length]);

    /// <summary>The float32 data, or a clear error naming <paramref name="what"/> when the value holds integers.</summary>
    public Tensor FloatData(string what) =>
        BlockedChannels > 0 ? throw new InvalidOperationException($"{what}: {TensorShape.Format(Dims)} is held in channel blocks, which only a Conv reads")
        : Floats ?? throw new InvalidDataException($"{what}: expected a float tensor, received {OnnxDataTypes.Name(Type)} {TensorShape.Format(Dims)}");

    /// <summary>The integer data, or a clear error naming <paramref name="what"/> when the value holds floats.</summary>
    public long[] IntegerData(string what) =>
        Integers ?? throw new InvalidDataException($"{what}: expected an integer tensor, received float {TensorShape.Format(Dims)}");

    public override string ToString() => $"{OnnxDataTypes.Name(Type)} {TensorShape.Format(Dims)}";

    /// <summary>The number of elements of <paramref name="dims"/>, or -1 when it passes int.MaxValue or a dimension is negative.</summary>
    public static long ElementCount(ReadOnlySpan<int> dims)
    {
        long count = 1;
        foreach (int d in dims)
        {
            if (d < 0) return -1;
            count *= d;
            if (count > int.MaxValue) return -1;
        }
        return count;
    }
}
