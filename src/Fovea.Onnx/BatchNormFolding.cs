using Fovea.Nn;

namespace Fovea.Onnx;

/// <summary>
/// Folds an inference batch norm into the convolution before it: with s = γ / √(var + ε) per output
/// channel, conv(x; W, b) then BN equals conv(x; W·s, (b − mean)·s + β). One op instead of two, and the
/// form fast runtimes use anyway.
/// </summary>
internal static class BatchNormFolding
{
    public static (Tensor Weight, Tensor Bias) Fold(Conv2d conv, BatchNorm2d bn)
    {
        if (bn.RunningMean is null || bn.RunningVar is null)
            throw new ArgumentException($"ONNX export: cannot fold {bn} into {conv}: it has no running statistics");
        int outChannels = conv.OutChannels;
        if (bn.NumFeatures != outChannels)
            throw new ArgumentException($"ONNX export: cannot fold {bn} into {conv}: {bn.NumFeatures} features for {outChannels} channels");
        var weight = conv.Weight.Detach().Clone();
        var bias = Tensor.Zeros(outChannels);
        int perChannel = weight.Length / outChannels;
        for (int o = 0; o < outChannels; o++)
        {
            // Double precision so the fold adds no rounding beyond the final float conversion.
            double scale = (bn.Weight?.Span[o] ?? 1f) / Math.Sqrt(bn.RunningVar.Span[o] + (double)bn.Eps);
            foreach (ref float v in weight.Span.Slice(o * perChannel, perChannel)) v = (float)(v * scale);
            double b = conv.Bias?.Span[o] ?? 0f;
            bias.Span[o] = (float)((b - bn.RunningMean.Span[o]) * scale + (bn.Bias?.Span[o] ?? 0f));
        }
        return (weight, bias);
    }
}
