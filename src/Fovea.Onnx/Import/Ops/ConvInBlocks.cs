using Fovea.Kernels;

namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// A 2-D Conv whose input arrives in channel blocks, or whose readers may read its output in them
/// (<see cref="InferenceRewrite.BlockedOutput"/>), on the channel-vectorised kernel, which reads and writes that layout
/// as its register tiles hold it (<see cref="F.TryConv2dBlocked"/>).
/// </summary>
internal static class ConvInBlocks
{
    /// <summary>
    /// The node's output, in blocks where <paramref name="readers"/> (the readers' geometry, see
    /// <see cref="InferenceRewrite.BlockedOutput"/>; null: none read blocks) all run in blocks on it; null where the kernel
    /// does not run the node, which then runs on planes.
    /// </summary>
    public static OnnxValue? TryRun(OnnxNodeContext node, SpatialAttributes spatial, int group, OnnxValue?[] inputs, ConvEpilogue epilogue, bool residual, long[]? readers)
    {
        if (group != 1 || inputs[0] is not { Floats: { } x, Dims.Length: 4 } input || inputs[1]?.Floats is not { Rank: 4 } weight) return null;
        var bias = inputs.Length > 2 ? inputs[2]?.Floats : null;
        var shortcut = residual ? inputs[3] : null;
        if (shortcut is { BlockedChannels: > 0 } || residual && shortcut?.Floats is null) return null;
        var axes = spatial.Geometry(node, input.Dims.AsSpan(2), weight.Shape.AsSpan()[2..]);
        var (h, w) = (axes[0], axes[1]);
        if (h.PadBegin != h.PadEnd || w.PadBegin != w.PadEnd || h.Output < 1 || w.Output < 1) return null;
        var (height, width) = epilogue.OutputSize([input.Dims[0], weight.Shape[0], h.Output, w.Output]);
        bool blockedOutput = readers is not null && ReadBlocks(readers, new TensorShape(input.Dims[0], weight.Shape[0], height, width));
        if (input.BlockedChannels == 0 && !blockedOutput) return null;
        var y = F.TryConv2dBlocked(x, input.BlockedChannels > 0, weight, bias, (h.Stride, w.Stride), (h.PadBegin, w.PadBegin), (h.Dilation, w.Dilation),
            epilogue with { Residual = shortcut?.Floats }, blockedOutput);
        return y is null ? null : blockedOutput ? OnnxValue.InChannelBlocks(y, weight.Shape[0]) : OnnxValue.Float(y);
    }

    /// <summary>Whether every reader (<see cref="InferenceRewrite.ReaderInts"/> ints each) runs in blocks on an input of <paramref name="shape"/>.</summary>
    private static bool ReadBlocks(long[] readers, TensorShape shape)
    {
        if (shape[2] < 1 || shape[3] < 1) return false;
        for (int r = 0; r + InferenceRewrite.ReaderInts <= readers.Length; r += InferenceRewrite.ReaderInts)
        {
            var d = readers.AsSpan(r, InferenceRewrite.ReaderInts);
            (int, int) kernel = ((int)d[1], (int)d[2]), stride = ((int)d[3], (int)d[4]), dilation = ((int)d[7], (int)d[8]);
            // A reader whose window does not fit the map fails on planes with the op's own message.
            if (shape[2] + 2 * d[5] < d[7] * (d[1] - 1) + 1 || shape[3] + 2 * d[6] < d[8] * (d[2] - 1) + 1) return false;
            var g = ConvGeometry.Of("Conv", shape, shape[1], (int)d[0], kernel, stride, ((int)d[5], (int)d[6]), dilation, 1);
            if (!F.RunsInChannelBlocks(g, d[9] != 0)) return false;
        }
        return true;
    }
}
