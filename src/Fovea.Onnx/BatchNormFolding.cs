using Fovea.Nn;

namespace Fovea.Onnx;

/// <summary>
/// Folds an inference batch norm into the convolution before it: with s = γ / √(var + ε) per output
/// channel, conv(x; W, b) then BN equals conv(x; W·s, (b − mean)·s + β). One op instead of two, and the
/// form fast runtimes use anyway. Export folds Fovea layers; import folds ONNX Conv → BatchNormalization pairs.
/// </summary>
internal static class BatchNormFolding
{
    public static (Tensor Weight, Tensor Bias) Fold(Conv2d conv, BatchNorm2d bn)
    {
        if (bn.RunningMean is null || bn.RunningVar is null)
            throw new ArgumentException($"ONNX export: cannot fold {bn} into {conv}: it has no running statistics");
        if (bn.NumFeatures != conv.OutChannels)
            throw new ArgumentException($"ONNX export: cannot fold {bn} into {conv}: {bn.NumFeatures} features for {conv.OutChannels} channels");
        return Fold(conv.Weight, conv.Bias, bn.Weight, bn.Bias, bn.RunningMean, bn.RunningVar, bn.Eps);
    }

    /// <summary>The folded weight and bias of a conv with <paramref name="weight"/> [O, …] and the norm's per-channel tensors (γ and β may be absent: 1 and 0).</summary>
    public static (Tensor Weight, Tensor Bias) Fold(Tensor weight, Tensor? bias, Tensor? gamma, Tensor? beta, Tensor mean, Tensor variance, double eps)
    {
        int outChannels = weight.Shape[0];
        var folded = weight.Detach().Clone();
        var foldedBias = Tensor.Zeros(outChannels);
        int perChannel = weight.Length / outChannels;
        for (int o = 0; o < outChannels; o++)
        {
            // Double precision so the fold adds no rounding beyond the final float conversion.
            double scale = (gamma?.Span[o] ?? 1f) / Math.Sqrt(variance.Span[o] + eps);
            foreach (ref float v in folded.Span.Slice(o * perChannel, perChannel)) v = (float)(v * scale);
            double b = bias?.Span[o] ?? 0f;
            foldedBias.Span[o] = (float)((b - mean.Span[o]) * scale + (beta?.Span[o] ?? 0f));
        }
        return (folded, foldedBias);
    }
}
