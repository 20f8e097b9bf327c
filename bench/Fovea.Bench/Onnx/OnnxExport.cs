using Fovea.Nn;

namespace Fovea.Bench.Onnx;

/// <summary>
/// Writes a Fovea <see cref="Sequential"/> of Conv2d, BatchNorm2d, ReLU, MaxPool2d, Dropout, Flatten
/// and Linear layers as an ONNX graph in evaluation mode (dropout is the identity), from its state
/// dict. The bench needs it until Fovea exports ONNX itself.
/// </summary>
public static class OnnxExport
{
    public static byte[] ToOnnx(Sequential model, int channels, int height, int width, int classes)
    {
        var graph = new OnnxGraph();
        string x = "input";
        int index = 0;
        foreach (var layer in model.Layers)
        {
            string p = $"p{index++}_";
            x = layer switch
            {
                Conv2d conv => Conv(graph, p, x, conv),
                BatchNorm2d bn => graph.Node("BatchNormalization",
                    [x, Weight(graph, p + "scale", bn.Weight), Weight(graph, p + "bias", bn.Bias), Weight(graph, p + "mean", bn.RunningMean), Weight(graph, p + "var", bn.RunningVar)],
                    new OnnxAttribute("epsilon", Float: bn.Eps)),
                ReLU => graph.Node("Relu", [x]),
                MaxPool2d pool when pool.Dilation == (1, 1) && !pool.CeilMode => graph.Node("MaxPool", [x],
                    new OnnxAttribute("kernel_shape", Ints: [pool.KernelSize.H, pool.KernelSize.W]),
                    new OnnxAttribute("strides", Ints: [pool.Stride.H, pool.Stride.W]),
                    new OnnxAttribute("pads", Ints: [pool.Padding.H, pool.Padding.W, pool.Padding.H, pool.Padding.W])),
                Dropout => x,
                Flatten flatten when flatten.StartDim == 1 && flatten.EndDim == -1 => graph.Node("Flatten", [x], new OnnxAttribute("axis", Int: 1)),
                Linear linear => graph.Node("Gemm", linear.Bias is null
                    ? [x, Weight(graph, p + "weight", linear.Weight)]
                    : [x, Weight(graph, p + "weight", linear.Weight), Weight(graph, p + "bias", linear.Bias)],
                    new OnnxAttribute("transB", Int: 1)),
                _ => throw new NotSupportedException($"OnnxExport: layer {layer} is not supported by the bench's exporter"),
            };
        }
        return graph.ToModel("input", [-1, channels, height, width], x, [-1, classes]);
    }

    private static string Conv(OnnxGraph graph, string p, string x, Conv2d conv)
    {
        if (conv.Padding.IsSame) throw new NotSupportedException($"OnnxExport: {conv} uses 'same' padding");
        string[] inputs = conv.Bias is null
            ? [x, Weight(graph, p + "weight", conv.Weight)]
            : [x, Weight(graph, p + "weight", conv.Weight), Weight(graph, p + "bias", conv.Bias)];
        return graph.Node("Conv", inputs,
            new OnnxAttribute("kernel_shape", Ints: [conv.KernelSize.Height, conv.KernelSize.Width]),
            new OnnxAttribute("strides", Ints: [conv.Stride.Height, conv.Stride.Width]),
            new OnnxAttribute("dilations", Ints: [conv.Dilation.Height, conv.Dilation.Width]),
            new OnnxAttribute("group", Int: conv.Groups),
            new OnnxAttribute("pads", Ints: [conv.Padding.Height, conv.Padding.Width, conv.Padding.Height, conv.Padding.Width]));
    }

    private static string Weight(OnnxGraph graph, string name, Tensor? tensor) =>
        tensor is null
            ? throw new NotSupportedException($"OnnxExport: '{name}' is missing (BatchNorm without affine or running stats)")
            : graph.Initializer(name, tensor.Span, [.. tensor.Shape.ToArray().Select(d => (long)d)]);
}
