using System.Numerics;

namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// A kernel that only moves elements (transpose, gather, pad): written once over the element type, so
/// float tensors and the integer values of shape glue share it. It fills output units [start, end).
/// </summary>
internal interface IElementMover
{
    void Move<T>(ReadOnlySpan<T> source, Span<T> destination, int start, int end) where T : unmanaged, INumber<T>;
}

internal static class ElementMover
{
    /// <summary>A new value of <paramref name="dims"/> whose <paramref name="units"/> units <paramref name="mover"/> fills from <paramref name="x"/>, in parallel chunks.</summary>
    public static OnnxValue Apply<TMover>(OnnxValue x, int[] dims, int units, TMover mover) where TMover : IElementMover
    {
        // Enough elements per chunk that forking pays for itself.
        long count = OnnxValue.ElementCount(dims);
        if (count < 0) throw new ArgumentException($"the output {TensorShape.Format(dims)} is too large");
        int minPerChunk = (int)Math.Max(1, units * 16384L / Math.Max(1, count));
        if (x.Floats is { } source)
        {
            var y = Tensor.Empty(dims);
            Parallelism.For(units, (start, end) => mover.Move<float>(source.Span, y.Span, start, end), minPerChunk);
            return OnnxValue.Float(y);
        }
        var values = x.Integers!;
        var result = new long[count];
        Parallelism.For(units, (start, end) => mover.Move<long>(values, result, start, end), minPerChunk);
        return OnnxValue.Integer(x.Type, result, dims);
    }
}
