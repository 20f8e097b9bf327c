using System.Text.Json.Nodes;
using Fovea.Kernels;

namespace Fovea.Nn;

/// <summary>
/// A locally connected layer: Conv2d's windows without parameter sharing, one weight matrix per output
/// position; the control experiment that isolates what sharing buys. Its parameter count depends on the
/// input size, which is therefore fixed at construction. Layout (see
/// <see cref="F.LocallyConnected2d(Tensor, Tensor, Tensor?, int, int, Padding2d, int)"/>): weight
/// [outH·outW, out, in·kH·kW], bias [out, outH, outW]; initialised like Conv2d with fan_in = in·kH·kW.
/// </summary>
public sealed class LocallyConnected2d : Module
{
    private readonly string _description;

    public int InChannels { get; }
    public int OutChannels { get; }
    public (int Height, int Width) InputSize { get; }
    public (int Height, int Width) OutputSize { get; }
    public (int Height, int Width) KernelSize { get; }
    public (int Height, int Width) Stride { get; }
    public Padding2d Padding { get; }
    public (int Height, int Width) Dilation { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public LocallyConnected2d(int inChannels, int outChannels, (int Height, int Width) inputSize, int kernelSize, int stride = 1, Padding2d padding = default,
        int dilation = 1, bool bias = true, Rng? rng = null)
        : this(inChannels, outChannels, inputSize, (kernelSize, kernelSize), (stride, stride), padding, (dilation, dilation), bias, rng) { }

    public LocallyConnected2d(int inChannels, int outChannels, (int Height, int Width) inputSize, (int Height, int Width) kernelSize, (int Height, int Width) stride,
        Padding2d padding, (int Height, int Width) dilation, bool bias = true, Rng? rng = null)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        InputSize = inputSize;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
        _description = $"LocallyConnected2d({inChannels}→{outChannels}, in={inputSize.Height}×{inputSize.Width}, k={WindowSpec.Describe(kernelSize)}, s={WindowSpec.Describe(stride)}, p={padding}"
            + (dilation == (1, 1) ? "" : $", d={WindowSpec.Describe(dilation)}")
            + (bias ? ")" : ", bias=false)");
        if (inputSize.Height <= 0 || inputSize.Width <= 0)
            throw new ArgumentException($"{_description}: input size must be positive. Received {inputSize.Height}×{inputSize.Width}");
        var g = ConvGeometry.Of(_description, new TensorShape(1, Math.Max(0, inChannels), inputSize.Height, inputSize.Width), inChannels, outChannels, kernelSize, stride, padding, dilation);
        OutputSize = (g.OutHeight, g.OutWidth);

        rng ??= Init.Global;
        Weight = RegisterParameter("weight", new Parameter(new TensorShape(g.OutPixels, outChannels, g.WindowLength)))!;
        Init.KaimingUniform(Weight, g.WindowLength, rng);
        Bias = RegisterParameter("bias", bias ? new Parameter(new TensorShape(outChannels, g.OutHeight, g.OutWidth)) : null);
        if (Bias is not null) Init.BiasUniform(Bias, g.WindowLength, rng);
    }

    public override Tensor Forward(Tensor input)
    {
        // The weight fixes the input size; say so directly rather than through a weight-shape mismatch.
        if (input.Rank != 4 || input.Shape[1] != InChannels || input.Shape[2] != InputSize.Height || input.Shape[3] != InputSize.Width)
            throw new ArgumentException($"{_description}: expected input [N, {InChannels}, {InputSize.Height}, {InputSize.Width}], received {input.Shape}");
        return F.LocallyConnected2d(_description, input, Weight, Bias, KernelSize, Stride, Padding, Dilation);
    }

    public override string ToString() => _description;

    public override JsonObject ToSpec() => new()
    {
        ["type"] = nameof(LocallyConnected2d),
        ["in_channels"] = InChannels,
        ["out_channels"] = OutChannels,
        ["in_height"] = InputSize.Height,
        ["in_width"] = InputSize.Width,
        ["kernel_size"] = WindowSpec.Write(KernelSize),
        ["stride"] = WindowSpec.Write(Stride),
        ["padding"] = WindowSpec.Write(Padding),
        ["dilation"] = WindowSpec.Write(Dilation),
        ["bias"] = Bias is not null,
    };

    public static LocallyConnected2d FromSpec(JsonObject spec, Rng rng) =>
        new(ModuleSpec.Int(spec, "in_channels"), ModuleSpec.Int(spec, "out_channels"), (ModuleSpec.Int(spec, "in_height"), ModuleSpec.Int(spec, "in_width")),
            WindowSpec.Pair(spec, "kernel_size"), WindowSpec.Pair(spec, "stride", 1), WindowSpec.Padding(spec, "padding"),
            WindowSpec.Pair(spec, "dilation", 1), ModuleSpec.Bool(spec, "bias", true), rng);
}
