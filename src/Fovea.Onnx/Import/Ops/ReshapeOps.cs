namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// Ops that keep the elements in order and change only the dimensions: Reshape, Flatten, Squeeze,
/// Unsqueeze. Float data goes through <see cref="F.Reshape"/>, so an imported graph stays trainable.
/// </summary>
internal static class ReshapeOps
{
    [OnnxOp("Reshape")]
    public static OnnxKernel Reshape(OnnxNodeContext node)
    {
        // Opset 14 added allowzero; before it a 0 always copied the input's dimension.
        bool allowZero = node.Opset >= 14 && node.Int("allowzero", 0) != 0;
        if (!node.HasInput(1)) throw node.Invalid("the shape input is missing");
        return inputs =>
        {
            var x = inputs[0]!;
            return [WithDims(x, ResolveShape(x.Dims, inputs[1]!.IntegerData("Reshape shape"), allowZero))];
        };
    }

    /// <summary>
    /// The dimensions ONNX's Reshape means by <paramref name="shape"/> for an input of <paramref name="input"/>:
    /// a 0 copies the input's dimension at that position (unless <paramref name="allowZero"/>), one -1 is inferred.
    /// </summary>
    public static int[] ResolveShape(int[] input, long[] shape, bool allowZero)
    {
        long length = OnnxValue.ElementCount(input);
        string Failure(string why) => $"cannot reshape {TensorShape.Format(input)} ({length} elements) to [{string.Join(", ", shape)}]{why}";
        var dims = new int[shape.Length];
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long d = shape[i];
            if (d == -1)
            {
                if (inferred >= 0) throw new ArgumentException(Failure(": more than one -1"));
                inferred = i;
                continue;
            }
            if (d == 0 && !allowZero)
            {
                if (i >= input.Length) throw new ArgumentException(Failure($": the 0 at position {i} copies a dimension the input lacks"));
                d = input[i];
            }
            if (d < 0 || d > int.MaxValue) throw new ArgumentException(Failure($": invalid size {d}"));
            dims[i] = (int)d;
            known *= d;
            if (known > int.MaxValue) throw new ArgumentException(Failure(""));
        }
        if (inferred >= 0)
        {
            if (known == 0 || length % known != 0) throw new ArgumentException(Failure(""));
            dims[inferred] = (int)(length / known);
        }
        else if (known != length) throw new ArgumentException(Failure(""));
        return dims;
    }

    [OnnxOp("Flatten")]
    public static OnnxKernel Flatten(OnnxNodeContext node)
    {
        long axis = node.Int("axis", 1);
        return inputs =>
        {
            var x = inputs[0]!;
            int rank = x.Dims.Length;
            // Flatten's axis lies in [-rank, rank]: rank puts everything in the first dimension.
            int a = axis == rank ? rank : OnnxAxes.Normalize(axis, rank, "Flatten axis");
            return [WithDims(x, [x.Dims[..a].Aggregate(1, (p, d) => p * d), x.Dims[a..].Aggregate(1, (p, d) => p * d)])];
        };
    }

    [OnnxOp("Squeeze")]
    public static OnnxKernel Squeeze(OnnxNodeContext node)
    {
        var axesOf = OnnxAxes.Reader(node, inputSince: 13, input: 1);
        return inputs =>
        {
            var x = inputs[0]!;
            if (axesOf(inputs) is not { } axes) return [WithDims(x, x.Dims.Where(d => d != 1).ToArray())];
            var squeezed = OnnxAxes.NormalizeAll(axes, x.Dims.Length, "Squeeze axis");
            foreach (int a in squeezed)
                if (x.Dims[a] != 1) throw new ArgumentException($"cannot squeeze axis {a} of size {x.Dims[a]} (input {TensorShape.Format(x.Dims)})");
            return [WithDims(x, x.Dims.Where((_, i) => !squeezed.Contains(i)).ToArray())];
        };
    }

    [OnnxOp("Unsqueeze")]
    public static OnnxKernel Unsqueeze(OnnxNodeContext node)
    {
        var axesOf = OnnxAxes.Reader(node, inputSince: 13, input: 1);
        if (node.Opset >= 13 ? !node.HasInput(1) : !node.Has("axes")) throw node.Invalid("the axes are missing");
        return inputs =>
        {
            var x = inputs[0]!;
            var axes = axesOf(inputs)!;
            // Axes index the output, whose rank counts the inserted dimensions.
            var inserted = OnnxAxes.NormalizeAll(axes, x.Dims.Length + axes.Length, "Unsqueeze axis");
            var dims = new int[x.Dims.Length + axes.Length];
            for (int o = 0, i = 0; o < dims.Length; o++) dims[o] = inserted.Contains(o) ? 1 : x.Dims[i++];
            return [WithDims(x, dims)];
        };
    }

    /// <summary>
    /// A value with <paramref name="x"/>'s elements under <paramref name="dims"/> (same element count). Float data that
    /// needs no gradient is viewed in place (<see cref="Tensor.Borrowing"/>; the executor keeps the storage alive while a
    /// view of it is live): MobileNetV2-style's Flatten copied 160 KB at batch 32. With a tape, F.Reshape copies it and
    /// records the op.
    /// </summary>
    public static OnnxValue WithDims(OnnxValue x, int[] dims) =>
        x.Floats is not { } t ? OnnxValue.Integer(x.Type, (long[])x.Integers!.Clone(), dims)
        : Autograd.NeedsGrad(t) ? OnnxValue.Float(F.Reshape(t, dims))
        : OnnxValue.Float(Tensor.Borrowing(t, new TensorShape(dims)));
}
