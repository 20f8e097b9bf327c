using Fovea.Kernels;

namespace Fovea.Nn;

/// <summary>
/// Inference shortcut for the conv stacks of CNNs, used by <see cref="Sequential"/> under no-grad: a Conv2d
/// followed by BatchNorm2d (evaluation mode, running statistics), ReLU and MaxPool2d(2) runs as one convolution
/// that applies the others as it writes its output (<see cref="ConvEpilogue"/>), so none of the full-size
/// intermediate activations is written or read again. The result is bitwise the layers' own. Nothing is cached:
/// the batch norm's per-channel scale is recomputed on every call (a few floats per channel), so changed
/// weights or statistics (an optimizer step, a state-dict load) show at once.
/// </summary>
internal static class InferenceFusion
{
    /// <summary>How many layers from <paramref name="start"/> make one fusable group; 1 when nothing fuses.</summary>
    public static int Length(IReadOnlyList<Module> layers, int start)
    {
        if (layers[start] is not Conv2d conv) return 1;
        int next = start + 1;
        if (next < layers.Count && FoldableBatchNorm(layers[next], conv)) next++;
        if (next >= layers.Count || layers[next] is not ReLU) return next - start;
        next++;
        if (next < layers.Count && layers[next] is MaxPool2d pool && IsPlain2x2(pool)) next++;
        return next - start;
    }

    /// <summary>
    /// Runs layers [start, start + length) (<paramref name="length"/> from <see cref="Length"/>): as one fused
    /// convolution where <see cref="F.TryConv2dFused"/> takes it, else one by one.
    /// </summary>
    public static Tensor Forward(IReadOnlyList<Module> layers, int start, int length, Tensor x)
    {
        var conv = (Conv2d)layers[start];
        int next = start + 1, end = start + length;
        var bn = layers[next] as BatchNorm2d;
        if (bn is not null) next++;
        bool relu = next < end;
        float[]? scale = bn is null ? null : TensorPool.Rent(conv.OutChannels);
        float[]? shift = bn is null ? null : TensorPool.Rent(conv.OutChannels);
        try
        {
            var norm = bn is null ? null : Affine(bn, scale!, shift!);
            var epilogue = new ConvEpilogue(relu, MaxPool2x2: relu && next + 1 < end, norm);
            var fused = F.TryConv2dFused(conv.ToString(), x, conv.Weight, conv.Bias, conv.Stride, conv.Padding, conv.Dilation, conv.Groups, epilogue);
            if (fused is not null) return fused;
        }
        finally
        {
            if (scale is not null) TensorPool.Return(scale);
            if (shift is not null) TensorPool.Return(shift);
        }
        var h = x;
        for (int i = start; i < end; i++)
        {
            var y = layers[i].Forward(h);
            Sequential.FreeConsumed(h, y, x);
            h = y;
        }
        return h;
    }

    /// <summary>In evaluation mode with running statistics a batch norm is a fixed per-channel affine map.</summary>
    private static bool FoldableBatchNorm(Module layer, Conv2d conv) =>
        layer is BatchNorm2d { IsTraining: false, RunningMean: not null } bn && bn.NumFeatures == conv.OutChannels;

    private static bool IsPlain2x2(MaxPool2d pool) =>
        pool.KernelSize == (2, 2) && pool.Stride == (2, 2) && pool.Padding == (0, 0) && pool.Dilation == (1, 1) && !pool.CeilMode;

    /// <summary>The batch norm's map with scale and shift computed exactly as <see cref="F.BatchNorm"/> computes them from running statistics.</summary>
    private static BatchNormAffine Affine(BatchNorm2d bn, float[] scale, float[] shift)
    {
        // Read-only views: taking Span per channel would count as a change of each tensor (Tensor.Version) every call.
        ReadOnlySpan<float> variance = bn.RunningVar!.Values, weight = bn.Weight is null ? default : bn.Weight.Values, bias = bn.Bias is null ? default : bn.Bias.Values;
        for (int c = 0; c < bn.NumFeatures; c++)
        {
            scale[c] = (weight.IsEmpty ? 1f : weight[c]) * (float)(1 / Math.Sqrt(variance[c] + (double)bn.Eps));
            shift[c] = bias.IsEmpty ? 0f : bias[c];
        }
        return new BatchNormAffine(bn.RunningMean!.Data, scale, shift);
    }
}
