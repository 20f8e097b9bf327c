using Fovea.Kernels;

namespace Fovea;

public static partial class F
{
    /// <summary>
    /// Inference: <see cref="TryConv2dFused"/> on <see cref="ChannelVectorConv"/> with x, y or both in channel blocks
    /// ([N, ⌈C / 16⌉, H, W, 16], <see cref="ChannelBlocks"/>), as an imported graph keeps its activations between such
    /// convs: <paramref name="blockedInput"/> says x is (then x's shape is the blocks', its channels the weight's),
    /// <paramref name="blockedOutput"/> that y is to be. The same bits as the op on planes, only laid out otherwise.
    /// Null where that kernel does not run the geometry (groups, fewer than 16 output channels on a map of 16 pixels or
    /// more, no AVX-512) or the epilogue (a clip with a ReLU or with a pool; a residual, other than of the output's shape
    /// in planes, without a pool), and the caller converts and runs the op on planes.
    /// </summary>
    internal static Tensor? TryConv2dBlocked(Tensor x, bool blockedInput, Tensor weight, Tensor? bias, (int Height, int Width) stride, Padding2d padding,
        (int Height, int Width) dilation, ConvEpilogue epilogue, bool blockedOutput)
    {
        if (Autograd.NeedsGrad(x, weight, bias) || weight.Rank != 4 || epilogue.Residual is { } r && (blockedOutput || Autograd.NeedsGrad(r)) || epilogue.Relu && epilogue.Clip is not null
            || (epilogue.MaxPool2x2 || epilogue.Pool is not null) && (!epilogue.Relu || epilogue.MaxPool2x2 && epilogue.Pool is not null)) return null;
        int inChannels = weight.Shape[1], outChannels = weight.Shape[0];
        if (blockedInput ? x.Rank != 5 || x.Shape[1] != ChannelBlocks.Count(inChannels) || x.Shape[4] != ChannelBlocks.Lanes : x.Rank != 4 || x.Shape[1] != inChannels) return null;
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outChannels)) return null;
        var shape = new TensorShape(x.Shape[0], inChannels, x.Shape[2], x.Shape[3]);
        var g = ConvGeometry.Of($"Conv2d({inChannels}→{outChannels})", shape, inChannels, outChannels, (weight.Shape[2], weight.Shape[3]), stride, padding, dilation, 1);
        var (fg, w) = Cropped(g, x, weight, bias) ?? (g, weight);
        if (!RunsInChannelBlocks(fg, epilogue.MergedBranches) || epilogue.MaxPool2x2 && (g.OutHeight < 2 || g.OutWidth < 2)
            || epilogue.Residual is { } shortcut && (epilogue.MaxPool2x2 || epilogue.Pool is not null || shortcut.Shape != new TensorShape(g.Batch, outChannels, g.OutHeight, g.OutWidth))) return null;
        var windows = epilogue.Pool?.Over([g.Batch, outChannels, g.OutHeight, g.OutWidth]);
        var (height, width) = epilogue.OutputSize([g.Batch, outChannels, g.OutHeight, g.OutWidth]);
        var y = blockedOutput ? Tensor.Empty(g.Batch, ChannelBlocks.Count(outChannels), height, width, ChannelBlocks.Lanes) : Tensor.Empty(g.Batch, outChannels, height, width);
        var (low, high) = epilogue.Clip ?? (epilogue.Relu ? 0f : float.NegativeInfinity, float.PositiveInfinity);
        ChannelVectorConv.Forward(fg, ConvPlans.ForChannelVector(fg, w), x.Data, bias?.Data, y.Data, low, high, epilogue.Norm, epilogue.MaxPool2x2,
            epilogue.Residual?.Data, windows, blockedInput, blockedOutput);
        return y;
    }

    /// <summary>
    /// Whether the inference of <paramref name="g"/> (without gradients, before the kernel crop) runs in channel blocks:
    /// where the op on planes runs on the channel-vectorised kernel too, or on the pointwise one, whose sums are the same
    /// (from the bias, one multiply-add per input channel in order), so that blocks change no bit of any result.
    /// </summary>
    internal static bool RunsInChannelBlocks(ConvGeometry g, bool mergedBranches)
    {
        var fg = KernelCrop.Crop(g) ?? g;
        return ChannelVectorConv.Runs(fg) && (mergedBranches || ForwardKernelOf(fg, inference: true) is ConvForwardKernel.ChannelVector or ConvForwardKernel.Pointwise);
    }

    /// <summary>Activations [N, C, H, W] → channel blocks [N, ⌈C / 16⌉, H, W, 16] (lanes past C zero). Inference only.</summary>
    internal static Tensor ToChannelBlocks(Tensor x)
    {
        if (x.Rank != 4) throw new ArgumentException($"ToChannelBlocks: x must be [N, C, H, W]. Received {x.Shape}");
        var y = Tensor.Empty(x.Shape[0], ChannelBlocks.Count(x.Shape[1]), x.Shape[2], x.Shape[3], ChannelBlocks.Lanes);
        ChannelBlocks.FromPlanes(x.Span, x.Shape[0], x.Shape[1], x.Shape[2] * x.Shape[3], y.Span);
        return y;
    }

    /// <summary>Channel blocks [N, ⌈C / 16⌉, H, W, 16] → activations [N, <paramref name="channels"/>, H, W]. Inference only.</summary>
    internal static Tensor FromChannelBlocks(Tensor x, int channels)
    {
        if (x.Rank != 5 || x.Shape[4] != ChannelBlocks.Lanes || channels < 1 || x.Shape[1] != ChannelBlocks.Count(channels))
            throw new ArgumentException($"FromChannelBlocks: x {x.Shape} does not hold {channels} channels in blocks of {ChannelBlocks.Lanes}");
        var y = Tensor.Empty(x.Shape[0], channels, x.Shape[2], x.Shape[3]);
        ChannelBlocks.ToPlanes(x.Span, x.Shape[0], channels, x.Shape[2] * x.Shape[3], y.Span);
        return y;
    }
}
