namespace Fovea.Onnx.Import.Ops;

/// <summary>Shape: a value's dimensions as int64s, the start of the Shape→Gather→Concat→Reshape glue exporters emit for dynamic batches.</summary>
internal static class ShapeOps
{
    [OnnxOp("Shape")]
    public static OnnxKernel Shape(OnnxNodeContext node)
    {
        // Opset 15 added start/end, clamped to [0, rank] after adding rank to negatives.
        long start = node.Opset >= 15 ? node.Int("start", 0) : 0;
        long? end = node.Opset >= 15 && node.Has("end") ? node.Int("end", 0) : null;
        return inputs =>
        {
            int rank = inputs[0]!.Dims.Length;
            int from = Clamp(start, rank), to = Clamp(end ?? rank, rank);
            return [OnnxValue.Int64s(inputs[0]!.Dims[from..Math.Max(from, to)].Select(d => (long)d).ToArray())];
        };
    }

    private static int Clamp(long axis, int rank) => (int)Math.Clamp(axis < 0 ? axis + rank : axis, 0, rank);
}
