namespace Fovea.Onnx.Import.Ops;

/// <summary>Ops that pass their input on: Identity, and Dropout at inference (ratio and training_mode ignored but for the mask).</summary>
internal static class IdentityOps
{
    [OnnxOp("Identity")]
    public static OnnxKernel Identity(OnnxNodeContext node) => inputs => [inputs[0]!];
}
