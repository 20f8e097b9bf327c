using Fovea.Kernels;

namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool over [N, C, D1, …, Dr]. Plain 2-d float pools
/// (symmetric padding of at most half the window, no Indices output) run on Fovea's F.MaxPool2d /
/// F.AvgPool2d / F.GlobalAvgPool2d, so the graph stays trainable; everything else on the N-d
/// <see cref="PoolKernel"/> (inference only).
/// </summary>
internal static class PoolOps
{
    [OnnxOp("MaxPool")]
    public static OnnxKernel MaxPool(OnnxNodeContext node)
    {
        var window = ReadWindow(node);
        // storage_order (opset 8+) only says how the Indices output numbers the elements of a plane.
        long storageOrder = node.Int("storage_order", 0);
        if (storageOrder is not (0 or 1)) throw node.Invalid($"storage_order {storageOrder} is not 0 (row major) or 1 (column major)");
        bool wantsIndices = node.Node.Outputs.Count > 1 && node.Node.Outputs[1].Length > 0;
        return inputs =>
        {
            var x = inputs[0]!;
            var axes = Geometry(node, window, x.Dims);
            if (x.Floats is { } t && !wantsIndices && axes.Length == 2) return [OnnxValue.Float(MaxPool2d(t, axes, window.CeilMode))];
            return Max(x, PoolWindows.Create(x.Dims, axes), wantsIndices, columnMajor: storageOrder == 1);
        };
    }

    /// <summary>
    /// A 2-D float max pool of these windows, without Indices: on F.MaxPool2d where it computes exactly them (extra
    /// padding at the end only, PyTorch's ceil_mode as older exporters write it, is ceil mode for a max pool: padding
    /// never wins a window that holds an input element), else on the N-d kernel. Also what a Conv node runs for the
    /// MaxPool merged into it (InferenceRewrite.FusedMaxPoolWindow) where its kernel does not take it.
    /// </summary>
    internal static Tensor MaxPool2d(Tensor t, SpatialAttributes.Axis[] axes, bool ceilMode)
    {
        int[] dims = t.Shape.ToArray();
        bool? ceil = FitsFovea2d(axes, dims, ceilMode, allowDilation: true) ? ceilMode : FitsFovea2dCeil(axes, dims) ? true : null;
        if (ceil is bool fits)
            return F.MaxPool2d(t, (axes[0].Kernel, axes[1].Kernel), (axes[0].Stride, axes[1].Stride),
                (axes[0].PadBegin, axes[1].PadBegin), (axes[0].Dilation, axes[1].Dilation), fits);
        return Max(OnnxValue.Float(t), PoolWindows.Create(dims, axes), wantsIndices: false, columnMajor: false)[0].Floats!;
    }

    [OnnxOp("AveragePool")]
    public static OnnxKernel AveragePool(OnnxNodeContext node)
    {
        var window = ReadWindow(node);
        bool countIncludePad = node.Int("count_include_pad", 0) != 0;
        return inputs =>
        {
            var t = inputs[0]!.FloatData("X");
            int[] dims = inputs[0]!.Dims;
            var axes = Geometry(node, window, dims);
            if (FitsFovea2d(axes, dims, window.CeilMode, allowDilation: false))
                return [OnnxValue.Float(F.AvgPool2d(t, (axes[0].Kernel, axes[1].Kernel), (axes[0].Stride, axes[1].Stride),
                    (axes[0].PadBegin, axes[1].PadBegin), window.CeilMode, countIncludePad))];
            return [Average(t, axes, countIncludePad)];
        };
    }

    [OnnxOp("GlobalAveragePool")]
    public static OnnxKernel GlobalAveragePool(OnnxNodeContext node) => inputs =>
    {
        var t = inputs[0]!.FloatData("X");
        var axes = Whole(inputs[0]!.Dims);
        if (PassesThrough(t, axes)) return [inputs[0]!];
        return [axes.Length == 2 ? OnnxValue.Float(F.GlobalAvgPool2d(t)) : Average(t, axes, countIncludePad: false)];
    };

    [OnnxOp("GlobalMaxPool")]
    public static OnnxKernel GlobalMaxPool(OnnxNodeContext node) => inputs =>
    {
        var x = inputs[0]!;
        var axes = Whole(x.Dims);
        if (PassesThrough(x.FloatData("X"), axes)) return [x];
        if (x.Floats is { } t && axes.Length == 2)
            return [OnnxValue.Float(F.MaxPool2d(t, (axes[0].Kernel, axes[1].Kernel), (axes[0].Kernel, axes[1].Kernel)))];
        return Max(x, PoolWindows.Create(x.Dims, axes), wantsIndices: false, columnMajor: false);
    };

    /// <summary>
    /// Whether a global pool of <paramref name="t"/> is <paramref name="t"/> itself: planes of one element, and no tape to
    /// record the op. MobileNetV2-style's pool of [32, 1280, 1, 1] copied 160 KB at batch 32.
    /// </summary>
    private static bool PassesThrough(Tensor t, SpatialAttributes.Axis[] axes) =>
        !Autograd.NeedsGrad(t) && axes.All(a => a.Kernel == 1); // a global window is the whole axis

    /// <summary>The window attributes of MaxPool and AveragePool; ceil_mode exists from opset 10.</summary>
    private static SpatialAttributes ReadWindow(OnnxNodeContext node)
    {
        var window = SpatialAttributes.Read(node, hasCeilMode: node.Opset >= 10);
        if (window.Kernel is null) throw node.Invalid("kernel_shape is required");
        return window;
    }

    private static SpatialAttributes.Axis[] Geometry(OnnxNodeContext node, SpatialAttributes window, int[] dims)
    {
        var kernel = window.Kernel!;
        if (dims.Length != kernel.Length + 2)
            throw new ArgumentException($"kernel_shape {TensorShape.Format(kernel)} expects input [N, C, {kernel.Length} spatial sizes], received {TensorShape.Format(dims)}");
        return window.Geometry(node, dims.AsSpan(2), kernel);
    }

    /// <summary>One window covering each whole spatial axis (the global pools).</summary>
    private static SpatialAttributes.Axis[] Whole(int[] dims)
    {
        if (dims.Length < 3 || dims.Skip(2).Any(d => d < 1))
            throw new ArgumentException($"expected input [N, C, D1, …] with non-empty spatial axes, received {TensorShape.Format(dims)}");
        return dims.Skip(2).Select(d => new SpatialAttributes.Axis(d, 1, 1, 0, 0, 1)).ToArray();
    }

    /// <summary>
    /// Whether Fovea's 2-d pools compute exactly these windows: padding symmetric and at most half the kernel
    /// (PyTorch's rule), the same output size, and no dilation for averages.
    /// </summary>
    private static bool FitsFovea2d(SpatialAttributes.Axis[] axes, int[] dims, bool ceilMode, bool allowDilation) =>
        axes.Length == 2 && axes.Select((a, i) => a.PadBegin == a.PadEnd && a.PadBegin <= a.Kernel / 2 && (allowDilation || a.Dilation == 1)
            && PoolGeometry.OutputSize(dims[i + 2], a.Kernel, a.Stride, a.PadBegin, a.Dilation, ceilMode) == a.Output).All(fits => fits);

    /// <summary>Whether end-heavy padding gives exactly the windows of F's ceil mode with the begin padding on both sides.</summary>
    private static bool FitsFovea2dCeil(SpatialAttributes.Axis[] axes, int[] dims) =>
        axes.Select((a, i) => a.PadEnd >= a.PadBegin && a.PadBegin <= a.Kernel / 2
            && PoolGeometry.OutputSize(dims[i + 2], a.Kernel, a.Stride, a.PadBegin, a.Dilation, ceilMode: true) == a.Output).All(fits => fits);

    private static int[] OutputDims(ReadOnlySpan<int> dims, PoolWindows windows) => [dims[0], dims[1], .. windows.OutDims];

    /// <summary>The N-d average pool of a float tensor.</summary>
    private static OnnxValue Average(Tensor x, SpatialAttributes.Axis[] axes, bool countIncludePad)
    {
        var windows = PoolWindows.Create(x.Shape.AsSpan(), axes);
        var y = Tensor.Empty(OutputDims(x.Shape.AsSpan(), windows));
        PoolKernel.Average(x.Span, y.Span, countIncludePad, windows);
        return OnnxValue.Float(y);
    }

    /// <summary>The N-d max pool of a float or integer value, with the int64 Indices output when asked for.</summary>
    private static OnnxValue[] Max(OnnxValue x, PoolWindows windows, bool wantsIndices, bool columnMajor)
    {
        var dims = OutputDims(x.Dims, windows);
        long[] indices = wantsIndices ? new long[OnnxValue.ElementCount(dims)] : [];
        OnnxValue y;
        if (x.Floats is { } t)
        {
            var output = Tensor.Empty(dims);
            PoolKernel.Max<float>(t.Span, output.Span, indices, columnMajor, windows);
            y = OnnxValue.Float(output);
        }
        else
        {
            var output = new long[OnnxValue.ElementCount(dims)];
            PoolKernel.Max<long>(x.Integers!, output, indices, columnMajor, windows);
            y = OnnxValue.Integer(x.Type, output, dims);
        }
        return !wantsIndices ? [y] : [y, OnnxValue.Integer(OnnxDataType.Int64, indices, dims)];
    }
}
