using Fovea.Kernels;

namespace Fovea;

public static partial class F
{
    /// <summary>
    /// Max pooling over [N, C, H, W] with a square window. <paramref name="stride"/> 0 means the kernel size
    /// (PyTorch's default); <paramref name="ceilMode"/> keeps a last partial window.
    /// </summary>
    public static Tensor MaxPool2d(Tensor x, int kernel, int stride = 0, int padding = 0, int dilation = 1, bool ceilMode = false) =>
        MaxPool2d(x, (kernel, kernel), (stride, stride), (padding, padding), (dilation, dilation), ceilMode);

    /// <summary>Max pooling with (height, width) pairs; a 0 stride component means that kernel component; dilation defaults to (1, 1).</summary>
    public static Tensor MaxPool2d(Tensor x, (int H, int W) kernel, (int H, int W) stride = default, (int H, int W) padding = default,
        (int H, int W)? dilation = null, bool ceilMode = false)
    {
        var g = PoolGeometry.Create("MaxPool2d", x.Shape.AsSpan(), kernel, DefaultStride(kernel, stride), padding, dilation ?? (1, 1), ceilMode);
        var y = Tensor.Empty(x.Shape[0], x.Shape[1], g.OutH, g.OutW);
        // The winners are what backward needs; without a backward the kernel skips recording them.
        int[] argmax = Autograd.NeedsGrad(x) ? TensorPool.RentInts(y.Length) : [];
        PoolKernels.MaxForward(TensorMemory.Of(x), TensorMemory.Of(y), argmax.AsMemory(0, argmax.Length == 0 ? 0 : y.Length), g);
        return Autograd.Record(y, "MaxPool2d", [x],
            dy =>
            {
                var gx = Autograd.GradientStorage(x, out bool fresh).AsMemory(0, x.Length);
                PoolKernels.MaxBackward(TensorMemory.Of(dy), gx, argmax.AsMemory(0, y.Length), g, clearFirst: fresh);
            },
            release: () => TensorPool.ReturnInts(argmax));
    }

    /// <summary>
    /// Average pooling over [N, C, H, W]. <paramref name="countIncludePad"/> (PyTorch's default) divides by
    /// the window size including padding; otherwise by the number of input elements in the window.
    /// </summary>
    public static Tensor AvgPool2d(Tensor x, int kernel, int stride = 0, int padding = 0, bool ceilMode = false, bool countIncludePad = true) =>
        AvgPool2d(x, (kernel, kernel), (stride, stride), (padding, padding), ceilMode, countIncludePad);

    /// <summary>Average pooling with (height, width) pairs; a 0 stride component means that kernel component.</summary>
    public static Tensor AvgPool2d(Tensor x, (int H, int W) kernel, (int H, int W) stride = default, (int H, int W) padding = default,
        bool ceilMode = false, bool countIncludePad = true)
    {
        var g = PoolGeometry.Create("AvgPool2d", x.Shape.AsSpan(), kernel, DefaultStride(kernel, stride), padding, (1, 1), ceilMode, countIncludePad);
        var y = Tensor.Empty(x.Shape[0], x.Shape[1], g.OutH, g.OutW);
        PoolKernels.AvgForward(TensorMemory.Of(x), TensorMemory.Of(y), g);
        return Autograd.Record(y, "AvgPool2d", [x], dy => PoolKernels.AvgBackward(TensorMemory.Of(dy), TensorMemory.OfGrad(x), g));
    }

    /// <summary>Average pooling to a fixed output size whatever the input size (PyTorch's window rule).</summary>
    public static Tensor AdaptiveAvgPool2d(Tensor x, (int H, int W) outputSize) =>
        AdaptiveAvg($"AdaptiveAvgPool2d(output={PoolGeometry.Pair(outputSize)})", "AdaptiveAvgPool2d", x, outputSize);

    public static Tensor AdaptiveAvgPool2d(Tensor x, int outputSize) => AdaptiveAvgPool2d(x, (outputSize, outputSize));

    /// <summary>Mean of each channel: [N, C, H, W] → [N, C, 1, 1].</summary>
    public static Tensor GlobalAvgPool2d(Tensor x) => AdaptiveAvg("GlobalAvgPool2d", "GlobalAvgPool2d", x, (1, 1));

    private static Tensor AdaptiveAvg(string description, string name, Tensor x, (int H, int W) output)
    {
        if (output.H < 1 || output.W < 1) throw new ArgumentException($"{description}: output size must be positive.");
        ExpectRank(description, x, 4, "[N, C, H, W]");
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        if (h < 1 || w < 1) throw new ArgumentException($"{description}: input {x.Shape} has an empty plane.");
        var y = Tensor.Empty(n, c, output.H, output.W);
        PoolKernels.AdaptiveAvgForward(TensorMemory.Of(x), TensorMemory.Of(y), n * c, h, w, output.H, output.W);
        return Autograd.Record(y, name, [x], dy => PoolKernels.AdaptiveAvgBackward(TensorMemory.Of(dy), TensorMemory.OfGrad(x), n * c, h, w, output.H, output.W));
    }

    private static (int H, int W) DefaultStride((int H, int W) kernel, (int H, int W) stride) =>
        (stride.H == 0 ? kernel.H : stride.H, stride.W == 0 ? kernel.W : stride.W);
}

/// <summary>Pool kernels split work over threads, whose lambdas can hold Memory but not Span.</summary>
file static class TensorMemory
{
    public static Memory<float> Of(Tensor t) => t.Data.AsMemory(0, t.Length);

    public static Memory<float> OfGrad(Tensor t)
    {
        _ = t.GradSpan;  // creates the zero-filled gradient on first use
        return Of(t.Grad!);
    }
}
