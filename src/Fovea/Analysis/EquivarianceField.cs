using Fovea.Nn;

namespace Fovea.Analysis;

/// <summary>
/// The receptive field along one axis, by the standard recurrence: output position i of a layer sees
/// input pixels [Start + i·Jump, Start + i·Jump + Size − 1]. Start is negative once padding is involved,
/// which is exactly what lets the probe tell border-touched positions from interior ones.
/// </summary>
internal readonly record struct ProbeAxis(int Size, int Jump, int Start)
{
    public static ProbeAxis Pixel => new(1, 1, 0);

    /// <summary>Through a window of <paramref name="kernel"/> taps spaced <paramref name="dilation"/> apart, moved by <paramref name="stride"/>, after <paramref name="padBefore"/> padding.</summary>
    public ProbeAxis Window(int kernel, int stride, int padBefore, int dilation = 1) =>
        new(Size + dilation * (kernel - 1) * Jump, Jump * stride, Start - padBefore * Jump);

    /// <summary>Through padding (negative: cropping) of <paramref name="before"/> positions at the start of the axis.</summary>
    public ProbeAxis Pad(int before) => this with { Start = Start - before * Jump };

    /// <summary>
    /// The output positions in [0, <paramref name="positions"/>) whose whole receptive field lies in input pixels
    /// [<paramref name="first"/>, <paramref name="last"/>], as an inclusive range (empty when From &gt; To).
    /// </summary>
    public (int From, int To) Inside(int first, int last, int positions)
    {
        int from = CeilDiv(first - Start, Jump), to = FloorDiv(last - Size + 1 - Start, Jump);
        return (Math.Max(from, 0), Math.Min(to, positions - 1));
    }

    /// <summary>Whether position i and position n − 1 − i see mirror-image pixel ranges of an axis of <paramref name="pixels"/>, so a flip of the input is a flip of the grid.</summary>
    public bool IsSymmetric(int positions, int pixels) => Start + (positions - 1) * Jump + Size - 1 == pixels - 1 - Start;

    private static int FloorDiv(int a, int b) => (int)Math.Floor((double)a / b);
    private static int CeilDiv(int a, int b) => (int)Math.Ceiling((double)a / b);
}

/// <summary>Receptive fields of a feature map along both axes, and how a layer changes them.</summary>
internal readonly record struct ProbeField(ProbeAxis Y, ProbeAxis X)
{
    public static ProbeField Pixels => new(ProbeAxis.Pixel, ProbeAxis.Pixel);

    /// <summary>
    /// The field after <paramref name="layer"/>, which reads a map of <paramref name="height"/>×<paramref name="width"/>.
    /// Layers acting on each position alone keep it; windows and padding move it.
    /// </summary>
    /// <exception cref="ArgumentException">A layer whose geometry the probe does not know.</exception>
    public ProbeField Through(Module layer, int height, int width) => layer switch
    {
        Conv2d c => Window(c.KernelSize, c.Stride, Before(c.Padding.Resolve(c.KernelSize, c.Dilation)), c.Dilation),
        LocallyConnected2d l => Window(l.KernelSize, l.Stride, Before(l.Padding.Resolve(l.KernelSize, l.Dilation)), l.Dilation),
        MaxPool2d p => Window(p.KernelSize, p.Stride, p.Padding, p.Dilation),
        AvgPool2d p => Window(p.KernelSize, p.Stride, p.Padding, (1, 1)),
        GlobalAvgPool2d => Window((height, width), (height, width), (0, 0), (1, 1)),
        AdaptiveAvgPool2d a when height % a.OutputSize.H == 0 && width % a.OutputSize.W == 0 =>
            Window((height / a.OutputSize.H, width / a.OutputSize.W), (height / a.OutputSize.H, width / a.OutputSize.W), (0, 0), (1, 1)),
        ConstantPad2d pad => new(Y.Pad(pad.Padding[2]), X.Pad(pad.Padding[0])), // (left, right, top, bottom)
        // conv3×3(stride s)→conv3×3 on the main path; the 1×1 shortcut sees a subset of those pixels.
        BasicBlock block => Through(Child(block, "conv1"), height, width).Through(Child(block, "conv2"), height, width),
        ReLU or LeakyReLU or ELU or GELU or Sigmoid or Tanh or Dropout or BatchNorm2d => this,
        _ => throw new ArgumentException($"Equivariance probe: the spatial geometry of {layer} is unknown, so its border-free interior cannot be found."),
    };

    private ProbeField Window((int H, int W) kernel, (int H, int W) stride, (int H, int W) padBefore, (int H, int W) dilation) =>
        new(Y.Window(kernel.H, stride.H, padBefore.H, dilation.H), X.Window(kernel.W, stride.W, padBefore.W, dilation.W));

    private static (int H, int W) Before((int Top, int Bottom, int Left, int Right) padding) => (padding.Top, padding.Left);

    private static Module Child(Module parent, string name) => parent.NamedChildren().First(c => c.Name == name).Module;
}
