namespace Fovea.Analysis;

/// <summary>
/// The receptive field of a layer's outputs along one image axis, in input pixels: output i reads the
/// <see cref="Size"/> input pixels centred on <see cref="Start"/> + i·<see cref="Jump"/> (some of them
/// padding near the borders). Start is a centre, so it is a half-integer for even windows.
/// </summary>
public readonly record struct AxisField(long Size, long Jump, double Start)
{
    /// <summary>The input itself: every pixel sees itself, neighbours one pixel apart, the first centred at 0.</summary>
    public static AxisField Identity => new(1, 1, 0);

    /// <summary>
    /// After a window of <paramref name="kernel"/> taps, <paramref name="dilation"/> apart, moving by
    /// <paramref name="stride"/>, with <paramref name="padBefore"/> zeros before the first pixel:
    /// r' = r + (k − 1)·d·j, j' = j·s, start' = start + ((k − 1)/2·d − p)·j.
    /// </summary>
    public AxisField Window(int kernel, int stride, int padBefore, int dilation) => new(
        checked(Size + (long)(kernel - 1) * dilation * Jump),
        checked(Jump * stride),
        Start + ((kernel - 1) / 2.0 * dilation - padBefore) * Jump);

    /// <summary>After <paramref name="pixels"/> pixels are added before the first one (negative: cropped).</summary>
    public AxisField Shift(int pixels) => this with { Start = Start - (double)pixels * Jump };

    /// <summary>The first input pixel output <paramref name="output"/> reads (negative: padding); always whole, since start − (r − 1)/2 is minus the padding in input pixels.</summary>
    public long FirstPixel(long output) => (long)Math.Round(Start - (Size - 1) / 2.0) + output * Jump;

    /// <summary>The last input pixel output <paramref name="output"/> reads (past the input's end: padding).</summary>
    public long LastPixel(long output) => FirstPixel(output) + Size - 1;

    public override string ToString() => $"{Size} (jump {Jump}, start {Start:0.#})";
}

/// <summary>The receptive field of a 2-D layer's outputs: one <see cref="AxisField"/> per image axis.</summary>
public sealed record ReceptiveField(AxisField Height, AxisField Width)
{
    public static ReceptiveField Identity { get; } = new(AxisField.Identity, AxisField.Identity);

    public ReceptiveField Window((int Height, int Width) kernel, (int Height, int Width) stride, (int Top, int Left) padBefore, (int Height, int Width) dilation) => new(
        Height.Window(kernel.Height, stride.Height, padBefore.Top, dilation.Height),
        Width.Window(kernel.Width, stride.Width, padBefore.Left, dilation.Width));

    /// <summary>"5×5 (jump 2, start 0.5)", or per axis when the axes differ.</summary>
    public override string ToString() => Height == Width
        ? $"{Height.Size}×{Width.Size} (jump {Height.Jump}, start {Height.Start:0.#})"
        : $"{Height.Size}×{Width.Size} (jump {Height.Jump}×{Width.Jump}, start {Height.Start:0.#}×{Width.Start:0.#})";
}
