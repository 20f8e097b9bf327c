using Fovea.Nn;

namespace Fovea.Onnx;

/// <summary>
/// A locally connected layer in standard ONNX ops (there is no such op): im2col as a Conv whose
/// identity kernels copy each window element into its own channel ([N, C·kH·kW, outH, outW], channel
/// order c, ky, kx as Fovea's windows), then one MatMul batched over positions with the weight in its
/// state-dict layout [P, O, K]: [P, O, K] × [P, K, N] = [P, O, N], transposed back to NCHW, plus the bias.
/// </summary>
internal sealed class LocallyConnectedLowering(OnnxGraph graph)
{
    public string Lower(LocallyConnected2d lc, string prefix, string x)
    {
        var (kh, kw) = lc.KernelSize;
        var (oh, ow) = lc.OutputSize;
        int c = lc.InChannels, o = lc.OutChannels, k = c * kh * kw, p = oh * ow;
        var (top, bottom, left, right) = lc.Padding.Resolve(lc.KernelSize, lc.Dilation);

        var identity = new float[k * k];
        for (int j = 0; j < k; j++) identity[j * k + j] = 1f; // kernel j = (c·kH + ky)·kW + kx has a single 1 at [c, ky, kx]
        string windows = graph.Node("Conv", [x, graph.Initializer(prefix + "unfold", identity, k, c, kh, kw)],
            new OnnxAttribute("kernel_shape", Ints: [kh, kw]),
            new OnnxAttribute("strides", Ints: [lc.Stride.Height, lc.Stride.Width]),
            new OnnxAttribute("dilations", Ints: [lc.Dilation.Height, lc.Dilation.Width]),
            new OnnxAttribute("pads", Ints: [top, left, bottom, right]));
        string flat = graph.Node("Reshape", [windows, graph.Int64Initializer(prefix + "windows_shape", 0, k, p)]);
        string byPosition = graph.Node("Transpose", [flat], new OnnxAttribute("perm", Ints: [2, 1, 0]));
        string weight = graph.Initializer(prefix + "weight", lc.Weight.Span, p, o, k);
        string product = graph.Node("MatMul", [weight, byPosition]);
        string nop = graph.Node("Transpose", [product], new OnnxAttribute("perm", Ints: [2, 1, 0]));
        string y = graph.Node("Reshape", [nop, graph.Int64Initializer(prefix + "output_shape", 0, o, oh, ow)]);
        return lc.Bias is null ? y : graph.Node("Add", [y, graph.Initializer(prefix + "bias", lc.Bias.Span, o, oh, ow)]);
    }
}
