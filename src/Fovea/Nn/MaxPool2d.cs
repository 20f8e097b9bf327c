using System.Text.Json.Nodes;
using Fovea.Kernels;

namespace Fovea.Nn;

/// <summary>Max pooling over [N, C, H, W]; stride defaults to the kernel size, as in PyTorch.</summary>
public sealed class MaxPool2d : Module
{
    public (int H, int W) KernelSize { get; }
    public (int H, int W) Stride { get; }
    public (int H, int W) Padding { get; }
    public (int H, int W) Dilation { get; }
    public bool CeilMode { get; }

    public MaxPool2d(int kernelSize, int stride = 0, int padding = 0, int dilation = 1, bool ceilMode = false)
        : this((kernelSize, kernelSize), (stride, stride), (padding, padding), (dilation, dilation), ceilMode) { }

    /// <summary>(height, width) pairs; a 0 stride component means that kernel component.</summary>
    public MaxPool2d((int H, int W) kernelSize, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, bool ceilMode = false)
    {
        KernelSize = kernelSize;
        Stride = (stride.H == 0 ? kernelSize.H : stride.H, stride.W == 0 ? kernelSize.W : stride.W);
        Padding = padding;
        Dilation = dilation;
        CeilMode = ceilMode;
    }

    public override Tensor Forward(Tensor input) => F.MaxPool2d(input, KernelSize, Stride, Padding, Dilation, CeilMode);

    public override string ToString() => PoolGeometry.Describe(nameof(MaxPool2d), KernelSize, Stride, Padding, Dilation, CeilMode);

    public override JsonObject ToSpec() => new()
    {
        ["type"] = nameof(MaxPool2d),
        ["kernel_size"] = SpecPairs.Write(KernelSize),
        ["stride"] = SpecPairs.Write(Stride),
        ["padding"] = SpecPairs.Write(Padding),
        ["dilation"] = SpecPairs.Write(Dilation),
        ["ceil_mode"] = CeilMode,
    };

    public static MaxPool2d FromSpec(JsonObject spec, Rng rng) =>
        new(SpecPairs.Read(spec, "kernel_size"), SpecPairs.Read(spec, "stride", (0, 0)), SpecPairs.Read(spec, "padding", (0, 0)),
            SpecPairs.Read(spec, "dilation", (1, 1)), ModuleSpec.Bool(spec, "ceil_mode", false));
}
