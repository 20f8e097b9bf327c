using Fovea.Nn;

namespace Fovea.Onnx;

/// <summary>
/// Turns Fovea layers into ONNX nodes, one layer at a time, tracking the shape of a batch-1 activation
/// (found by running each leaf layer on zeros) for the few ops that need sizes: adaptive pooling, general
/// flattening and the graph output. Initialiser names are the state dict's.
/// </summary>
internal sealed class OnnxLowering(OnnxGraph graph, bool foldBatchNorm)
{
    /// <summary>Adds the nodes of <paramref name="layer"/> (state-dict prefix <paramref name="prefix"/>) reading <paramref name="x"/>; returns its output and shape.</summary>
    public (string Output, TensorShape Shape) Lower(Module layer, string prefix, string x, TensorShape shape) => layer switch
    {
        Sequential => LowerSequence(layer, prefix, x, shape),
        BasicBlock block => LowerBlock(block, prefix, x, shape),
        _ => (LowerLeaf(layer, prefix, x, shape), ShapeAfter(layer, shape)),
    };

    private (string, TensorShape) LowerSequence(Module sequence, string prefix, string x, TensorShape shape)
    {
        var children = sequence.NamedChildren().ToList();
        for (int i = 0; i < children.Count; i++)
        {
            var (name, child) = children[i];
            if (foldBatchNorm && child is Conv2d conv && i + 1 < children.Count && children[i + 1].Module is BatchNorm2d bn)
            {
                x = ConvBn(conv, bn, prefix + name + ".", prefix + children[++i].Name + ".", x);
                shape = ShapeAfter(bn, ShapeAfter(conv, shape));
            }
            else
            {
                (x, shape) = Lower(child, prefix + name + ".", x, shape);
            }
        }
        return (x, shape);
    }

    /// <summary>conv1-bn1-relu-conv2-bn2, plus the shortcut (identity or downsample conv+BN), then ReLU; children found by torchvision's names.</summary>
    private (string, TensorShape) LowerBlock(BasicBlock block, string prefix, string x, TensorShape shape)
    {
        var children = block.NamedChildren().ToDictionary(c => c.Name, c => c.Module);
        string h = ConvBn((Conv2d)children["conv1"], (BatchNorm2d)children["bn1"], prefix + "conv1.", prefix + "bn1.", x);
        h = graph.Node("Relu", [h]);
        h = ConvBn((Conv2d)children["conv2"], (BatchNorm2d)children["bn2"], prefix + "conv2.", prefix + "bn2.", h);
        string shortcut = children.TryGetValue("downsample", out var downsample) ? Lower(downsample, prefix + "downsample.", x, shape).Output : x;
        string sum = graph.Node("Add", [h, shortcut]);
        return (graph.Node("Relu", [sum]), ShapeAfter(block, shape));
    }

    /// <summary>A conv and the batch norm after it: two nodes, or one conv with the norm folded into its weights.</summary>
    private string ConvBn(Conv2d conv, BatchNorm2d bn, string convPrefix, string bnPrefix, string x)
    {
        if (!foldBatchNorm) return BatchNorm(bn, bnPrefix, Conv(conv, convPrefix, x));
        var (weight, bias) = BatchNormFolding.Fold(conv, bn);
        using (weight)
        using (bias)
            return Conv(conv, x, Initializer(convPrefix + "weight", weight), Initializer(convPrefix + "bias", bias));
    }

    private string LowerLeaf(Module layer, string prefix, string x, TensorShape shape) => layer switch
    {
        Conv2d conv => Conv(conv, prefix, x),
        LocallyConnected2d lc => new LocallyConnectedLowering(graph).Lower(lc, prefix, x),
        BatchNormBase bn => BatchNorm(bn, prefix, x),
        Linear linear => graph.Node("Gemm", linear.Bias is null
            ? [x, Initializer(prefix + "weight", linear.Weight)]
            : [x, Initializer(prefix + "weight", linear.Weight), Initializer(prefix + "bias", linear.Bias)],
            new OnnxAttribute("transB", Int: 1)),
        ReLU => graph.Node("Relu", [x]),
        LeakyReLU leaky => graph.Node("LeakyRelu", [x], new OnnxAttribute("alpha", Float: leaky.NegativeSlope)),
        ELU elu => graph.Node("Elu", [x], new OnnxAttribute("alpha", Float: elu.Alpha)),
        Sigmoid => graph.Node("Sigmoid", [x]),
        Tanh => graph.Node("Tanh", [x]),
        GELU gelu => Gelu(gelu, prefix, x),
        Softmax softmax => graph.Node("Softmax", [x], new OnnxAttribute("axis", Int: softmax.Dim)),
        LogSoftmax logSoftmax => graph.Node("LogSoftmax", [x], new OnnxAttribute("axis", Int: logSoftmax.Dim)),
        MaxPool2d pool => graph.Node("MaxPool", [x],
            new OnnxAttribute("kernel_shape", Ints: [pool.KernelSize.H, pool.KernelSize.W]),
            new OnnxAttribute("strides", Ints: [pool.Stride.H, pool.Stride.W]),
            new OnnxAttribute("pads", Ints: [pool.Padding.H, pool.Padding.W, pool.Padding.H, pool.Padding.W]),
            new OnnxAttribute("dilations", Ints: [pool.Dilation.H, pool.Dilation.W]),
            new OnnxAttribute("ceil_mode", Int: pool.CeilMode ? 1 : 0)),
        AvgPool2d pool => graph.Node("AveragePool", [x],
            new OnnxAttribute("kernel_shape", Ints: [pool.KernelSize.H, pool.KernelSize.W]),
            new OnnxAttribute("strides", Ints: [pool.Stride.H, pool.Stride.W]),
            new OnnxAttribute("pads", Ints: [pool.Padding.H, pool.Padding.W, pool.Padding.H, pool.Padding.W]),
            new OnnxAttribute("ceil_mode", Int: pool.CeilMode ? 1 : 0),
            new OnnxAttribute("count_include_pad", Int: pool.CountIncludePad ? 1 : 0)),
        GlobalAvgPool2d => graph.Node("GlobalAveragePool", [x]),
        AdaptiveAvgPool2d pool => AdaptiveAvgPool(pool, x, shape),
        ConstantPad2d pad => graph.Node("Pad", [x,
                graph.Int64Initializer(prefix + "pads", 0, 0, pad.Padding[2], pad.Padding[0], 0, 0, pad.Padding[3], pad.Padding[1]),
                graph.Initializer(prefix + "value", [pad.Value])]),
        Dropout => x,
        Flatten flatten => Flatten(flatten, prefix, x, shape),
        _ => throw new ArgumentException($"ONNX export: layer {layer} ({layer.GetType().Name}) at '{prefix.TrimEnd('.')}' is not supported"),
    };

    private string Conv(Conv2d conv, string prefix, string x) =>
        Conv(conv, x, Initializer(prefix + "weight", conv.Weight), conv.Bias is null ? null : Initializer(prefix + "bias", conv.Bias));

    private string Conv(Conv2d conv, string x, string weight, string? bias)
    {
        var (top, bottom, left, right) = conv.Padding.Resolve(conv.KernelSize, conv.Dilation);
        return graph.Node("Conv", bias is null ? [x, weight] : [x, weight, bias],
            new OnnxAttribute("kernel_shape", Ints: [conv.KernelSize.Height, conv.KernelSize.Width]),
            new OnnxAttribute("strides", Ints: [conv.Stride.Height, conv.Stride.Width]),
            new OnnxAttribute("dilations", Ints: [conv.Dilation.Height, conv.Dilation.Width]),
            new OnnxAttribute("group", Int: conv.Groups),
            new OnnxAttribute("pads", Ints: [top, left, bottom, right]));
    }

    /// <summary>Inference BatchNormalization; without affine parameters scale 1 and shift 0 stand in.</summary>
    private string BatchNorm(BatchNormBase bn, string prefix, string x)
    {
        if (bn.RunningMean is null || bn.RunningVar is null)
            throw new ArgumentException($"ONNX export: {bn} at '{prefix.TrimEnd('.')}' has no running statistics, so it normalises with batch statistics, which inference BatchNormalization cannot express");
        int c = bn.NumFeatures;
        string scale = bn.Weight is null ? graph.Initializer(prefix + "weight", Enumerable.Repeat(1f, c).ToArray(), c) : Initializer(prefix + "weight", bn.Weight);
        string shift = bn.Bias is null ? graph.Initializer(prefix + "bias", new float[c], c) : Initializer(prefix + "bias", bn.Bias);
        return graph.Node("BatchNormalization",
            [x, scale, shift, Initializer(prefix + "running_mean", bn.RunningMean), Initializer(prefix + "running_var", bn.RunningVar)],
            new OnnxAttribute("epsilon", Float: bn.Eps));
    }

    /// <summary>GELU from Erf or Tanh (ONNX has a Gelu op only from opset 20).</summary>
    private string Gelu(GELU gelu, string prefix, string x)
    {
        string Constant(string name, float value) => graph.Initializer(prefix + name, [value]);
        string half = graph.Node("Mul", [x, Constant("half", 0.5f)]);
        string inner = gelu.Approximate == "tanh"
            ? graph.Node("Tanh", [graph.Node("Mul", [Constant("sqrt_2_over_pi", MathF.Sqrt(2f / MathF.PI)),
                graph.Node("Add", [x, graph.Node("Mul", [Constant("cubic", 0.044715f), graph.Node("Mul", [x, graph.Node("Mul", [x, x])])])])])])
            : graph.Node("Erf", [graph.Node("Mul", [x, Constant("inv_sqrt_2", 1f / MathF.Sqrt(2f))])]);
        return graph.Node("Mul", [half, graph.Node("Add", [inner, Constant("one", 1f)])]);
    }

    /// <summary>The divisible case only: then each output pixel averages a fixed, non-overlapping window.</summary>
    private string AdaptiveAvgPool(AdaptiveAvgPool2d pool, string x, TensorShape shape)
    {
        int h = shape[2], w = shape[3];
        if (pool.OutputSize == (1, 1)) return graph.Node("GlobalAveragePool", [x]);
        if (h % pool.OutputSize.H != 0 || w % pool.OutputSize.W != 0)
            throw new ArgumentException($"ONNX export: {pool} on a {h}×{w} input is not supported (the input size must be a multiple of the output size)");
        int kh = h / pool.OutputSize.H, kw = w / pool.OutputSize.W;
        return graph.Node("AveragePool", [x], new OnnxAttribute("kernel_shape", Ints: [kh, kw]), new OnnxAttribute("strides", Ints: [kh, kw]));
    }

    /// <summary>ONNX's Flatten for the usual [N, rest]; otherwise a Reshape that keeps the batch dimension symbolic (0 = copy it).</summary>
    private string Flatten(Flatten flatten, string prefix, string x, TensorShape shape)
    {
        int start = shape.NormalizeAxis(flatten.StartDim), end = shape.NormalizeAxis(flatten.EndDim);
        if (start == 1 && end == shape.Rank - 1) return graph.Node("Flatten", [x], new OnnxAttribute("axis", Int: 1));
        long[] target = [.. ShapeAfter(flatten, shape).ToArray().Select(d => (long)d)];
        target[0] = start == 0 ? -1 : 0;
        return graph.Node("Reshape", [x, graph.Int64Initializer(prefix + "shape", target)]);
    }

    private string Initializer(string name, Tensor tensor) =>
        graph.Initializer(name, tensor.Span, [.. tensor.Shape.ToArray().Select(d => (long)d)]);

    /// <summary>The output shape of <paramref name="layer"/> on a batch-1 zero input (this also validates the input size the way Fovea does).</summary>
    private static TensorShape ShapeAfter(Module layer, TensorShape shape)
    {
        using var zeros = Tensor.Zeros(shape);
        var y = layer.Forward(zeros);
        var result = y.Shape;
        if (!ReferenceEquals(y, zeros)) y.Dispose();
        return result;
    }
}
