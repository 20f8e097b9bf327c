using System.Numerics;

namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// Gather: picks slices along an axis by index, for the Shape→Gather glue of exporters and for embedding
/// lookups. Inference only (no differentiable gather in Fovea to hand it to).
/// </summary>
internal static class GatherOps
{
    [OnnxOp("Gather")]
    public static OnnxKernel Gather(OnnxNodeContext node)
    {
        long axis = node.Int("axis", 0);
        return inputs =>
        {
            var (data, indices) = (inputs[0]!, inputs[1]!);
            var picks = indices.IntegerData("Gather indices");
            if (data.Dims.Length == 0) throw new ArgumentException("cannot gather from a scalar");
            int a = OnnxAxes.Normalize(axis, data.Dims.Length, "Gather axis");
            int size = data.Dims[a];
            // Negative indices count from the end of the axis.
            var rows = new int[picks.Length];
            for (int i = 0; i < picks.Length; i++)
            {
                long p = picks[i] < 0 ? picks[i] + size : picks[i];
                if (p < 0 || p >= size) throw new ArgumentException($"index {picks[i]} is out of range for axis {a} of size {size} (data {TensorShape.Format(data.Dims)})");
                rows[i] = (int)p;
            }
            int[] dims = [.. data.Dims[..a], .. indices.Dims, .. data.Dims[(a + 1)..]];
            int outer = data.Dims[..a].Aggregate(1, (p, d) => p * d), inner = data.Dims[(a + 1)..].Aggregate(1, (p, d) => p * d);
            return [ElementMover.Apply(data, dims, outer * rows.Length, new Mover(rows, size, inner))];
        };
    }

    /// <summary>One unit is one (outer position, index) pair: a block of inner elements.</summary>
    private readonly struct Mover(int[] rows, int size, int inner) : IElementMover
    {
        public void Move<T>(ReadOnlySpan<T> source, Span<T> destination, int start, int end) where T : unmanaged, INumber<T>
        {
            for (int unit = start; unit < end; unit++)
            {
                int outer = unit / rows.Length, row = rows[unit % rows.Length];
                source.Slice((outer * size + row) * inner, inner).CopyTo(destination.Slice(unit * inner, inner));
            }
        }
    }
}
