using System.Text.Json.Nodes;
using Fovea.Kernels;

namespace Fovea.Nn;

/// <summary>Average pooling over [N, C, H, W]; stride defaults to the kernel size, padding counts by default, as in PyTorch.</summary>
public sealed class AvgPool2d : Module
{
    public (int H, int W) KernelSize { get; }
    public (int H, int W) Stride { get; }
    public (int H, int W) Padding { get; }
    public bool CeilMode { get; }
    public bool CountIncludePad { get; }

    public AvgPool2d(int kernelSize, int stride = 0, int padding = 0, bool ceilMode = false, bool countIncludePad = true)
        : this((kernelSize, kernelSize), (stride, stride), (padding, padding), ceilMode, countIncludePad) { }

    /// <summary>(height, width) pairs; a 0 stride component means that kernel component.</summary>
    public AvgPool2d((int H, int W) kernelSize, (int H, int W) stride, (int H, int W) padding, bool ceilMode = false, bool countIncludePad = true)
    {
        KernelSize = kernelSize;
        Stride = (stride.H == 0 ? kernelSize.H : stride.H, stride.W == 0 ? kernelSize.W : stride.W);
        Padding = padding;
        CeilMode = ceilMode;
        CountIncludePad = countIncludePad;
    }

    public override Tensor Forward(Tensor input) => F.AvgPool2d(input, KernelSize, Stride, Padding, CeilMode, CountIncludePad);

    public override string ToString() => PoolGeometry.Describe(nameof(AvgPool2d), KernelSize, Stride, Padding, (1, 1), CeilMode, CountIncludePad);

    public override JsonObject ToSpec() => new()
    {
        ["type"] = nameof(AvgPool2d),
        ["kernel_size"] = SpecPairs.Write(KernelSize),
        ["stride"] = SpecPairs.Write(Stride),
        ["padding"] = SpecPairs.Write(Padding),
        ["ceil_mode"] = CeilMode,
        ["count_include_pad"] = CountIncludePad,
    };

    public static AvgPool2d FromSpec(JsonObject spec, Rng rng) =>
        new(SpecPairs.Read(spec, "kernel_size"), SpecPairs.Read(spec, "stride", (0, 0)), SpecPairs.Read(spec, "padding", (0, 0)),
            ModuleSpec.Bool(spec, "ceil_mode", false), ModuleSpec.Bool(spec, "count_include_pad", true));
}
