using Fovea.Kernels;

namespace Fovea;

public static partial class F
{
    /// <summary>Depthwise convolutions (groups == in_channels): the direct kernel, planes split across threads.</summary>
    private static void DepthwiseConv2dForward(ConvGeometry g, Tensor x, Tensor weight, Tensor? bias, Tensor y) =>
        DepthwiseConv.Forward(g, x.Data, weight.Data, bias?.Data, y.Data);

    /// <summary>dX by planes, dW and dBias by channels: no gradient is summed across threads, so no chunked partials are needed.</summary>
    private static void DepthwiseConv2dBackward(ConvGeometry g, Tensor x, Tensor weight, Tensor? bias, float[] dy)
    {
        if (x.RequiresGrad) DepthwiseConv.InputGradient(g, dy, weight.Data, ChunkedGradient.GradientArray(x));
        float[]? dw = weight.RequiresGrad ? ChunkedGradient.GradientArray(weight) : null;
        float[]? db = bias is not null && bias.RequiresGrad ? ChunkedGradient.GradientArray(bias) : null;
        if (dw is not null || db is not null) DepthwiseConv.ParameterGradients(g, x.Data, dy, dw, db);
    }
}
