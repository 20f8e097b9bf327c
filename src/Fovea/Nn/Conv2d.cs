using System.Text.Json.Nodes;
using Fovea.Kernels;

namespace Fovea.Nn;

/// <summary>
/// 2-D convolution layer, PyTorch's nn.Conv2d: weight [out, in / groups, kH, kW], bias [out], both
/// initialised as PyTorch does (kaiming uniform with a = √5 and U(±1/√fan_in), fan_in = (in / groups)·kH·kW).
/// Padding accepts an int, a (height, width) pair, <see cref="Padding2d.Same"/> or "same".
/// </summary>
public sealed class Conv2d : Module
{
    private readonly string _description;

    public int InChannels { get; }
    public int OutChannels { get; }
    public (int Height, int Width) KernelSize { get; }
    public (int Height, int Width) Stride { get; }
    public Padding2d Padding { get; }
    public (int Height, int Width) Dilation { get; }
    public int Groups { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, Padding2d padding = default, int dilation = 1, int groups = 1, bool bias = true, Rng? rng = null)
        : this(inChannels, outChannels, (kernelSize, kernelSize), (stride, stride), padding, (dilation, dilation), groups, bias, rng) { }

    public Conv2d(int inChannels, int outChannels, (int Height, int Width) kernelSize, (int Height, int Width) stride, Padding2d padding, (int Height, int Width) dilation,
        int groups = 1, bool bias = true, Rng? rng = null)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
        Groups = groups;
        _description = $"Conv2d({inChannels}→{outChannels}, k={WindowSpec.Describe(kernelSize)}, s={WindowSpec.Describe(stride)}, p={padding}"
            + (dilation == (1, 1) ? "" : $", d={WindowSpec.Describe(dilation)}")
            + (groups == 1 ? "" : $", g={groups}")
            + (bias ? ")" : ", bias=false)");
        // Validate now rather than at the first forward, against the smallest input the window fits
        // (a non-positive channel count is left for Of to name, not for TensorShape to reject).
        ConvGeometry.Of(_description, new TensorShape(1, Math.Max(0, inChannels), Extent(kernelSize.Height, dilation.Height), Extent(kernelSize.Width, dilation.Width)),
            inChannels, outChannels, kernelSize, stride, padding, dilation, groups);

        rng ??= Init.Global;
        int fanIn = inChannels / groups * kernelSize.Height * kernelSize.Width;
        Weight = RegisterParameter("weight", new Parameter(new TensorShape(outChannels, inChannels / groups, kernelSize.Height, kernelSize.Width)))!;
        Init.KaimingUniform(Weight, fanIn, rng);
        Bias = RegisterParameter("bias", bias ? new Parameter(new TensorShape(outChannels)) : null);
        if (Bias is not null) Init.BiasUniform(Bias, fanIn, rng);
    }

    /// <summary>Input pixels a dilated kernel spans along one axis (at least 1, so a bad size reaches the validation message).</summary>
    private static int Extent(int kernel, int dilation) => Math.Max(1, dilation * (kernel - 1) + 1);

    public override Tensor Forward(Tensor input) => F.Conv2d(_description, input, Weight, Bias, Stride, Padding, Dilation, Groups);

    public override string ToString() => _description;

    public override JsonObject ToSpec() => new()
    {
        ["type"] = nameof(Conv2d),
        ["in_channels"] = InChannels,
        ["out_channels"] = OutChannels,
        ["kernel_size"] = WindowSpec.Write(KernelSize),
        ["stride"] = WindowSpec.Write(Stride),
        ["padding"] = WindowSpec.Write(Padding),
        ["dilation"] = WindowSpec.Write(Dilation),
        ["groups"] = Groups,
        ["bias"] = Bias is not null,
    };

    public static Conv2d FromSpec(JsonObject spec, Rng rng) =>
        new(ModuleSpec.Int(spec, "in_channels"), ModuleSpec.Int(spec, "out_channels"), WindowSpec.Pair(spec, "kernel_size"),
            WindowSpec.Pair(spec, "stride", 1), WindowSpec.Padding(spec, "padding"), WindowSpec.Pair(spec, "dilation", 1),
            ModuleSpec.Int(spec, "groups", 1), ModuleSpec.Bool(spec, "bias", true), rng);
}
