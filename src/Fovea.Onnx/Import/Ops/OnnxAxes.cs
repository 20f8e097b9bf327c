namespace Fovea.Onnx.Import.Ops;

/// <summary>ONNX's axis conventions, shared by the shape ops: negative axes count from the end, lists must not repeat an axis.</summary>
internal static class OnnxAxes
{
    /// <summary><paramref name="axis"/> in [-rank, rank) as a non-negative axis; an <see cref="ArgumentException"/> naming <paramref name="what"/> otherwise.</summary>
    public static int Normalize(long axis, int rank, string what)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new ArgumentException($"{what} {axis} is out of range for rank {rank}");
        return (int)a;
    }

    /// <summary>Each axis normalised against <paramref name="rank"/>; a repeated axis is an error.</summary>
    public static int[] NormalizeAll(long[] axes, int rank, string what)
    {
        var result = new int[axes.Length];
        for (int i = 0; i < axes.Length; i++)
        {
            result[i] = Normalize(axes[i], rank, what);
            if (Array.IndexOf(result, result[i], 0, i) >= 0) throw new ArgumentException($"{what}s [{string.Join(", ", axes)}] repeat axis {result[i]}");
        }
        return result;
    }

    /// <summary>
    /// The axes of a Squeeze/Unsqueeze/Pad-style node: the <c>axes</c> attribute before <paramref name="inputSince"/>,
    /// input <paramref name="input"/> from then on (null when neither is given).
    /// </summary>
    public static Func<OnnxValue?[], long[]?> Reader(OnnxNodeContext node, int inputSince, int input)
    {
        if (node.Opset < inputSince)
        {
            long[]? attribute = node.Ints("axes");
            return _ => attribute;
        }
        string what = $"{node.OpType} axes";
        return inputs => input < inputs.Length && inputs[input] is { } axes ? axes.IntegerData(what) : null;
    }
}
