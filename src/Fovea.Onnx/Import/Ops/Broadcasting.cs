using Fovea.Kernels;

namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// NumPy broadcasting of shapes for the kernels F does not cover (integer arithmetic, batched matrix
/// products over broadcast batches), and ONNX's one-way variant (a bias or slope stretched to another
/// operand's shape, never the other way).
/// </summary>
internal static class Broadcasting
{
    /// <summary>The broadcast shape of <paramref name="a"/> and <paramref name="b"/>, or null when they do not broadcast.</summary>
    public static int[]? Shape(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => BroadcastPlan.TryCreate(a, b)?.OutputShape;

    /// <summary>Whether <paramref name="from"/> broadcasts to exactly <paramref name="to"/> (ONNX's unidirectional broadcasting).</summary>
    public static bool Reaches(ReadOnlySpan<int> from, ReadOnlySpan<int> to) =>
        from.Length <= to.Length && Shape(from, to) is { } s && s.AsSpan().SequenceEqual(to);

    /// <summary>
    /// Element strides of an operand of shape <paramref name="dims"/> aligned on the right within
    /// <paramref name="output"/>, 0 along the dimensions it is broadcast in.
    /// </summary>
    public static int[] Strides(ReadOnlySpan<int> dims, ReadOnlySpan<int> output)
    {
        var strides = new int[output.Length];
        for (int d = output.Length - 1, i = dims.Length - 1, step = 1; i >= 0; d--, i--)
        {
            strides[d] = dims[i] == 1 ? 0 : step;
            step *= dims[i];
        }
        return strides;
    }

    /// <summary>Where output element <paramref name="index"/> (row-major in <paramref name="output"/>) reads an operand with <paramref name="strides"/>.</summary>
    public static int Offset(int index, ReadOnlySpan<int> output, ReadOnlySpan<int> strides)
    {
        int offset = 0;
        for (int d = output.Length - 1; d >= 0; d--)
        {
            offset += index % output[d] * strides[d];
            index /= output[d];
        }
        return offset;
    }
}
