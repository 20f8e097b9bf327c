namespace Fovea.Onnx.Import.Ops;

/// <summary>Constant: a tensor held in the node (value), or from opset 12 a float or int64 scalar or list; folded at load time.</summary>
internal static class ConstantOps
{
    [OnnxOp("Constant")]
    public static OnnxKernel Constant(OnnxNodeContext node)
    {
        var given = new List<OnnxValue>();
        if (node.Tensor("value") is { } tensor) given.Add(tensor);
        if (node.Opset >= 12)
        {
            if (node.Has("value_float")) given.Add(OnnxValue.Float(Tensor.Scalar(node.Float("value_float", 0f))));
            if (node.Floats("value_floats") is { } floats) given.Add(OnnxValue.Float(Tensor.FromArray(floats, floats.Length)));
            if (node.Has("value_int")) given.Add(OnnxValue.Integer(OnnxDataType.Int64, [node.Int("value_int", 0)], []));
            if (node.Ints("value_ints") is { } ints) given.Add(OnnxValue.Int64s(ints));
        }
        if (given.Count > 1) throw node.Invalid("exactly one value attribute may be given");
        if (given.Count == 0)
        {
            // Value attributes Fovea cannot hold (strings, sparse tensors, or value_* before opset 12).
            string? other = node.Node.Attributes.Keys.FirstOrDefault();
            throw other is null ? node.Invalid("no value attribute is given") : node.Unsupported($"attribute '{other}' is not supported");
        }
        var value = given[0];
        return _ => [ReshapeOps.WithDims(value, value.Dims)];
    }
}
