namespace Fovea.Onnx.Import.Ops;

/// <summary>Identity: the input object itself passes on (the model's memory bookkeeping sees the shared tensor).</summary>
internal static class IdentityOps
{
    [OnnxOp("Identity")]
    public static OnnxKernel Identity(OnnxNodeContext node) => inputs => [inputs[0]!];
}
