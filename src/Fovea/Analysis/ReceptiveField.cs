using Fovea.Nn;

namespace Fovea.Analysis;

/// <summary>
/// The receptive field of a layer's outputs along one image axis, in input pixels: output i reads the
/// <see cref="Size"/> input pixels from <see cref="First"/> + i·<see cref="Jump"/> on, some of them padding near
/// the borders (First is negative once padding is involved). <see cref="Start"/> is the centre of output 0's
/// window, a half-integer for even windows. The recurrence itself runs on whole numbers, so it is exact.
/// </summary>
public readonly record struct AxisField
{
    /// <summary>From the centre form; <paramref name="start"/> − (<paramref name="size"/> − 1)/2 must be whole, since it is a pixel.</summary>
    public AxisField(long size, long jump, double start)
    {
        double first = start - (size - 1) / 2.0;
        if (first != Math.Floor(first))
            throw new ArgumentException($"AxisField: a window of {size} pixels cannot be centred on {start}");
        (Size, Jump, First) = (size, jump, (long)first);
    }

    public long Size { get; private init; }
    public long Jump { get; private init; }

    /// <summary>The first input pixel output 0 reads (negative: padding).</summary>
    public long First { get; private init; }

    /// <summary>The centre of output 0's window.</summary>
    public double Start => First + (Size - 1) / 2.0;

    /// <summary>The input itself: every pixel sees itself, neighbours one pixel apart, the first at 0.</summary>
    public static AxisField Identity => FromFirst(1, 1, 0);

    public static AxisField FromFirst(long size, long jump, long first) => new() { Size = size, Jump = jump, First = first };

    /// <summary>
    /// After a window of <paramref name="kernel"/> taps, <paramref name="dilation"/> apart, moving by
    /// <paramref name="stride"/>, with <paramref name="padBefore"/> zeros before the first pixel:
    /// r' = r + (k − 1)·d·j, j' = j·s, first' = first − p·j.
    /// </summary>
    public AxisField Window(int kernel, int stride, int padBefore, int dilation) => FromFirst(
        checked(Size + (long)(kernel - 1) * dilation * Jump),
        checked(Jump * stride),
        checked(First - padBefore * Jump));

    /// <summary>After <paramref name="pixels"/> pixels are added before the first one (negative: cropped).</summary>
    public AxisField Shift(int pixels) => FromFirst(Size, Jump, checked(First - pixels * Jump));

    /// <summary>The first input pixel output <paramref name="output"/> reads (negative: padding).</summary>
    public long FirstPixel(long output) => First + output * Jump;

    /// <summary>The last input pixel output <paramref name="output"/> reads (past the input's end: padding).</summary>
    public long LastPixel(long output) => FirstPixel(output) + Size - 1;

    /// <summary>
    /// The outputs among the first <paramref name="positions"/> whose whole window lies in input pixels
    /// [<paramref name="first"/>, <paramref name="last"/>], as an inclusive range (empty when From &gt; To).
    /// </summary>
    public (int From, int To) Inside(long first, long last, int positions)
    {
        long from = -FloorDiv(First - first, Jump), to = FloorDiv(last - (Size - 1) - First, Jump);
        return ((int)Math.Clamp(from, 0, positions), (int)Math.Clamp(to, -1, positions - 1));
    }

    /// <summary>Whether output i and output n − 1 − i of <paramref name="positions"/> read mirror-image ranges of an axis of <paramref name="pixels"/>, so a flip of the input is a flip of the outputs.</summary>
    public bool IsSymmetric(long positions, long pixels) => LastPixel(positions - 1) == pixels - 1 - First;

    public override string ToString() => $"{Size} (jump {Jump}, start {Start:0.#})";

    /// <summary>⌊a/b⌋ for b &gt; 0 (integer division truncates towards zero).</summary>
    private static long FloorDiv(long a, long b) => a / b - (a % b < 0 ? 1 : 0);
}

/// <summary>The receptive field of a 2-D layer's outputs: one <see cref="AxisField"/> per image axis, and how each layer kind moves it.</summary>
public sealed record ReceptiveField(AxisField Height, AxisField Width)
{
    public static ReceptiveField Identity { get; } = new(AxisField.Identity, AxisField.Identity);

    public ReceptiveField Window((int Height, int Width) kernel, (int Height, int Width) stride, (int Top, int Left) padBefore, (int Height, int Width) dilation) => new(
        Height.Window(kernel.Height, stride.Height, padBefore.Top, dilation.Height),
        Width.Window(kernel.Width, stride.Width, padBefore.Left, dilation.Width));

    /// <summary>
    /// The field after <paramref name="layer"/>, which reads a map of <paramref name="height"/>×<paramref name="width"/>:
    /// windows (convolution, pooling) grow and stride it, padding moves it, layers acting on each position alone
    /// keep it. Null when the outputs have no regular window: after Flatten or Linear (each sees the whole input),
    /// uneven adaptive pooling, or a softmax across a spatial axis (each output sees the whole row or column).
    /// </summary>
    /// <exception cref="ArgumentException">A layer kind with no rule here.</exception>
    public ReceptiveField? Through(Module layer, int height, int width) => layer switch
    {
        Conv2d c => Convolution(c),
        LocallyConnected2d l => Window(l.KernelSize, l.Stride, Before(l.Padding.Resolve(l.KernelSize, l.Dilation)), l.Dilation),
        MaxPool2d p => Window(p.KernelSize, p.Stride, p.Padding, p.Dilation),
        AvgPool2d p => Window(p.KernelSize, p.Stride, p.Padding, (1, 1)),
        GlobalAvgPool2d => Window((height, width), (height, width), (0, 0), (1, 1)),
        AdaptiveAvgPool2d a => height % a.OutputSize.H == 0 && width % a.OutputSize.W == 0
            ? Window((height / a.OutputSize.H, width / a.OutputSize.W), (height / a.OutputSize.H, width / a.OutputSize.W), (0, 0), (1, 1))
            : null,
        ConstantPad2d pad => new(Height.Shift(pad.Padding[2]), Width.Shift(pad.Padding[0])), // (left, right, top, bottom)
        // conv3×3(stride s)→conv3×3 on the main path; the 1×1 shortcut sees a subset of those pixels.
        BasicBlock block => Convolution(Child(block, "conv1")).Convolution(Child(block, "conv2")),
        Softmax s => AcrossChannels(s.Dim),
        LogSoftmax s => AcrossChannels(s.Dim),
        ReLU or LeakyReLU or ELU or GELU or Sigmoid or Tanh or Dropout or BatchNormBase => this,
        Flatten or Linear => null,
        _ => throw new ArgumentException($"ReceptiveField: the spatial geometry of {layer} is unknown."),
    };

    private ReceptiveField Convolution(Conv2d c) => Window(c.KernelSize, c.Stride, Before(c.Padding.Resolve(c.KernelSize, c.Dilation)), c.Dilation);

    /// <summary>A softmax over the channels of an [N, C, H, W] map acts on each position alone.</summary>
    private ReceptiveField? AcrossChannels(int dim) => dim is 1 or -3 ? this : null;

    private static (int Top, int Left) Before((int Top, int Bottom, int Left, int Right) padding) => (padding.Top, padding.Left);

    private static Conv2d Child(BasicBlock block, string name) => (Conv2d)block.NamedChildren().First(c => c.Name == name).Module;

    /// <summary>"5×5 (jump 2, start 0.5)", or per axis when the axes differ.</summary>
    public override string ToString() => Height == Width
        ? $"{Height.Size}×{Width.Size} (jump {Height.Jump}, start {Height.Start:0.#})"
        : $"{Height.Size}×{Width.Size} (jump {Height.Jump}×{Width.Jump}, start {Height.Start:0.#}×{Width.Start:0.#})";
}
