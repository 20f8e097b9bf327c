namespace Fovea.Onnx.Import.Ops;

/// <summary>Concat: float tensors through <see cref="F.Concat"/> (trainable), integer values (shapes being assembled) exactly.</summary>
internal static class ConcatOps
{
    [OnnxOp("Concat")]
    public static OnnxKernel Concat(OnnxNodeContext node)
    {
        if (!node.Has("axis")) throw node.Invalid("attribute 'axis' is required");
        long axis = node.Int("axis", 0);
        return inputs =>
        {
            var xs = inputs.Select((x, i) => x ?? throw new ArgumentException($"input {i} is missing")).ToArray();
            var first = xs[0];
            if (first.Dims.Length == 0) throw new ArgumentException("cannot concatenate scalars");
            int a = OnnxAxes.Normalize(axis, first.Dims.Length, "Concat axis");
            foreach (var x in xs)
            {
                if (x.Type != first.Type) throw new ArgumentException($"inputs mix {OnnxDataTypes.Name(first.Type)} and {OnnxDataTypes.Name(x.Type)}");
                bool fits = x.Dims.Length == first.Dims.Length && x.Dims.Select((d, i) => i == a || d == first.Dims[i]).All(f => f);
                if (!fits) throw new ArgumentException($"shapes {TensorShape.Format(first.Dims)} and {TensorShape.Format(x.Dims)} differ outside axis {a}");
            }
            if (first.IsFloat) return [OnnxValue.Float(F.Concat(xs.Select(x => x.Floats!).ToArray(), a))];
            return [ConcatIntegers(xs, a)];
        };
    }

    /// <summary>Each input is outer blocks of (its size along the axis)·inner elements; the output interleaves them block by block.</summary>
    private static OnnxValue ConcatIntegers(OnnxValue[] xs, int axis)
    {
        var dims = (int[])xs[0].Dims.Clone();
        dims[axis] = xs.Sum(x => x.Dims[axis]);
        int outer = dims[..axis].Aggregate(1, (p, d) => p * d), inner = dims[(axis + 1)..].Aggregate(1, (p, d) => p * d);
        var result = new long[OnnxValue.ElementCount(dims)];
        for (int o = 0, offset = 0; o < outer; o++)
            foreach (var x in xs)
            {
                int block = x.Dims[axis] * inner;
                x.Integers.AsSpan(o * block, block).CopyTo(result.AsSpan(offset));
                offset += block;
            }
        return OnnxValue.Integer(xs[0].Type, result, dims);
    }
}
