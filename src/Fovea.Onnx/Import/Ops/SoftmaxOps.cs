namespace Fovea.Onnx.Import.Ops;

/// <summary>Softmax and LogSoftmax through F.Softmax / F.LogSoftmax, in both of ONNX's meanings of `axis`.</summary>
internal static class SoftmaxOps
{
    /// <summary>
    /// From opset 13 the op normalises along `axis` (default −1). Before, the input is seen as the matrix
    /// [d₀·…·d(axis−1), d(axis)·…·dₙ₋₁] (axis default 1) and each row is normalised: for axis below the
    /// last one, that is over the whole trailing block, not along one axis.
    /// </summary>
    [OnnxOp("Softmax", "LogSoftmax")]
    public static OnnxKernel Softmax(OnnxNodeContext node)
    {
        bool log = node.OpType == "LogSoftmax", rows = node.Opset < 13;
        long axis = node.Int("axis", rows ? 1 : -1);
        Func<Tensor, int, Tensor> along = log ? F.LogSoftmax : F.Softmax;
        return inputs =>
        {
            var x = inputs[0]!.FloatData("input");
            if (axis < -x.Rank || axis >= x.Rank) throw new ArgumentException($"axis {axis} is out of range for input {x.Shape}");
            int a = (int)(axis < 0 ? axis + x.Rank : axis);
            if (!rows || a == x.Rank - 1) return [OnnxValue.Float(along(x, a))];
            var matrix = F.Reshape(x, x.Shape.Product(0, a), x.Shape.Product(a, x.Rank));
            var normalised = along(matrix, 1);
            return [OnnxValue.Float(Temporaries.Release(F.Reshape(normalised, x.Shape.ToArray()), [x], matrix, normalised))];
        };
    }
}
