using Fovea.Kernels;

namespace Fovea;

public static partial class F
{
    /// <summary>Depthwise convolutions (groups == in_channels): vectorised along rows, or across channels where rows are shorter than a vector.</summary>
    private static void DepthwiseConv2dForward(ConvGeometry g, Tensor x, Tensor weight, Tensor? bias, Tensor y)
    {
        if (DepthwiseConvByChannels.Supports(g)) DepthwiseConvByChannels.Forward(g, x.Data, weight.Data, bias?.Data, y.Data);
        else DepthwiseConv.Forward(g, x.Data, weight.Data, bias?.Data, y.Data);
    }

    /// <summary>dX by planes, dW and dBias by channels: no gradient is summed across threads, so no chunked partials are needed.</summary>
    private static void DepthwiseConv2dBackward(ConvGeometry g, Tensor x, Tensor weight, Tensor? bias, float[] dy)
    {
        bool byChannels = DepthwiseConvByChannels.Supports(g);
        if (x.RequiresGrad)
        {
            float[] dx = ChunkedGradient.GradientArray(x);
            if (byChannels) DepthwiseConvByChannels.InputGradient(g, dy, weight.Data, dx);
            else DepthwiseConv.InputGradient(g, dy, weight.Data, dx);
        }
        float[]? dw = weight.RequiresGrad ? ChunkedGradient.GradientArray(weight) : null;
        float[]? db = bias is not null && bias.RequiresGrad ? ChunkedGradient.GradientArray(bias) : null;
        if (dw is null && db is null) return;
        if (byChannels) DepthwiseConvByChannels.ParameterGradients(g, x.Data, dy, dw, db);
        else DepthwiseConv.ParameterGradients(g, x.Data, dy, dw, db);
    }
}
