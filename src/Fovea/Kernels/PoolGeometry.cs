namespace Fovea.Kernels;

/// <summary>
/// Sizes of a 2-d pooling over NCHW input: <see cref="Planes"/> = N·C independent H×W planes, the
/// window, and the output size computed exactly as PyTorch does, so shapes agree layer by layer.
/// </summary>
public readonly record struct PoolGeometry(
    int Planes, int InH, int InW,
    int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW, int DilationH, int DilationW,
    bool CeilMode, bool CountIncludePad, int OutH, int OutW)
{
    /// <summary>
    /// Validates the arguments against <paramref name="input"/> ([N, C, H, W]) and sizes the output.
    /// <paramref name="op"/> is the op's name ("MaxPool2d"); messages describe it with its arguments.
    /// </summary>
    public static PoolGeometry Create(string op, ReadOnlySpan<int> input, (int H, int W) kernel, (int H, int W) stride,
        (int H, int W) padding, (int H, int W) dilation, bool ceilMode, bool countIncludePad = true)
    {
        string Name() => Describe(op, kernel, stride, padding, dilation, ceilMode, countIncludePad);
        if (input.Length != 4) throw new ArgumentException($"{Name()}: expected input [N, C, H, W], received {TensorShape.Format(input)}");
        if (kernel.H <= 0 || kernel.W <= 0) throw new ArgumentException($"{Name()}: kernel size must be positive. Received {Pair(kernel)}");
        if (stride.H <= 0 || stride.W <= 0) throw new ArgumentException($"{Name()}: stride must be positive. Received {Pair(stride)}");
        if (dilation.H <= 0 || dilation.W <= 0) throw new ArgumentException($"{Name()}: dilation must be positive. Received {Pair(dilation)}");
        if (padding.H < 0 || padding.W < 0) throw new ArgumentException($"{Name()}: padding must be non-negative. Received {Pair(padding)}");
        // PyTorch's rule: a wider pad could make a window that sees only padding.
        if (padding.H > kernel.H / 2 || padding.W > kernel.W / 2)
            throw new ArgumentException($"{Name()}: padding {Pair(padding)} must be at most half the kernel {Pair(kernel)}");
        int outH = OutputSize(input[2], kernel.H, stride.H, padding.H, dilation.H, ceilMode);
        int outW = OutputSize(input[3], kernel.W, stride.W, padding.W, dilation.W, ceilMode);
        if (outH < 1 || outW < 1)
        {
            int windowH = (kernel.H - 1) * dilation.H + 1, windowW = (kernel.W - 1) * dilation.W + 1;
            throw new ArgumentException($"{Name()}: input {TensorShape.Format(input)} is smaller than the window ({windowH}×{windowW} with padding {Pair(padding)})");
        }
        return new PoolGeometry(input[0] * input[1], input[2], input[3], kernel.H, kernel.W, stride.H, stride.W,
            padding.H, padding.W, dilation.H, dilation.W, ceilMode, countIncludePad, outH, outW);
    }

    /// <summary>
    /// PyTorch's pooling_output_shape: floor (or ceil) of the sliding count, and in ceil mode the last
    /// window must still start inside the input or the left padding, never wholly in the right padding.
    /// </summary>
    public static int OutputSize(int input, int kernel, int stride, int pad, int dilation, bool ceilMode)
    {
        long span = (long)input + 2 * pad - (long)dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0);
        long output = (long)Math.Floor(span / (double)stride) + 1;  // floor, not truncation: span can be negative
        if (ceilMode && (output - 1) * stride >= input + pad) output--;
        return (int)output;
    }

    /// <summary>How layers and messages name a pooling: <c>MaxPool2d(k=3, s=2, p=1)</c>, defaults left out.</summary>
    public static string Describe(string op, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding,
        (int H, int W) dilation, bool ceilMode, bool countIncludePad = true)
    {
        var parts = new List<string> { "k=" + Pair(kernel) };
        if (stride != kernel) parts.Add("s=" + Pair(stride));
        if (padding != (0, 0)) parts.Add("p=" + Pair(padding));
        if (dilation != (1, 1)) parts.Add("d=" + Pair(dilation));
        if (ceilMode) parts.Add("ceil_mode=true");
        if (!countIncludePad) parts.Add("count_include_pad=false");
        return $"{op}({string.Join(", ", parts)})";
    }

    /// <summary>"2" for a square pair, "(2, 3)" otherwise.</summary>
    public static string Pair((int H, int W) p) => p.H == p.W ? p.H.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"({p.H}, {p.W})";
}
