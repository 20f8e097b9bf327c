namespace Fovea.Tests.Support;

/// <summary>
/// F.Conv2d with the tape (the training kernels, which inference's own kernels must agree with) or under no-grad
/// (where inference-only kernels, crops and kept plans apply), on the same operands.
/// </summary>
internal static class ConvModes
{
    public static float[] Run(bool withGradients, Tensor x, Tensor weight, Tensor? bias,
        int stride = 1, Padding2d padding = default, int dilation = 1, int groups = 1)
    {
        weight.RequiresGrad = withGradients;
        using var scope = withGradients ? null : (IDisposable?)Autograd.NoGrad();
        using var y = F.Conv2d(x, weight, bias, stride, padding, dilation, groups);
        return y.ToArray();
    }
}
