namespace Fovea.Onnx.Import;

/// <summary>
/// The window attributes Conv, ConvTranspose and the pools share — kernel_shape, strides, dilations, pads
/// (all begins, then all ends) and auto_pad — read once at load time, and the per-axis geometry they give
/// for an input's spatial sizes (ONNX's rules, including SAME_UPPER/SAME_LOWER and ceil_mode).
/// </summary>
internal sealed class SpatialAttributes
{
    private SpatialAttributes(int[]? kernel, int[]? strides, int[]? dilations, int[]? pads, string autoPad, bool ceilMode)
    {
        Kernel = kernel;
        Strides = strides;
        Dilations = dilations;
        Pads = pads;
        AutoPad = autoPad;
        CeilMode = ceilMode;
    }

    /// <summary>kernel_shape, when given (Conv may infer it from the weight).</summary>
    public int[]? Kernel { get; }

    public int[]? Strides { get; }

    public int[]? Dilations { get; }

    /// <summary>Explicit pads: the begins of every axis, then the ends.</summary>
    public int[]? Pads { get; }

    /// <summary>NOTSET, SAME_UPPER, SAME_LOWER or VALID.</summary>
    public string AutoPad { get; }

    public bool CeilMode { get; }

    /// <summary>Reads the attributes; <paramref name="hasCeilMode"/> for the pools that define ceil_mode.</summary>
    public static SpatialAttributes Read(OnnxNodeContext node, bool hasCeilMode)
    {
        string autoPad = node.String("auto_pad", "NOTSET");
        if (autoPad is not ("NOTSET" or "SAME_UPPER" or "SAME_LOWER" or "VALID")) throw node.Invalid($"auto_pad '{autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
        var pads = Positive(node, "pads", allowZero: true);
        if (pads is not null && autoPad != "NOTSET" && pads.Any(p => p != 0)) throw node.Invalid($"pads and auto_pad '{autoPad}' are both given");
        bool ceil = hasCeilMode && node.Int("ceil_mode", 0) != 0;
        return new SpatialAttributes(Positive(node, "kernel_shape", false), Positive(node, "strides", false), Positive(node, "dilations", false), pads, autoPad, ceil);
    }

    /// <summary>The geometry of one spatial axis: padding before and after, and the output size.</summary>
    public readonly record struct Axis(int Kernel, int Stride, int Dilation, int PadBegin, int PadEnd, int Output);

    /// <summary>
    /// Per spatial axis, for input sizes <paramref name="input"/> and kernel <paramref name="kernel"/>
    /// (kernel_shape or the weight's). Fails naming the node when the window does not fit.
    /// </summary>
    public Axis[] Geometry(OnnxNodeContext node, ReadOnlySpan<int> input, ReadOnlySpan<int> kernel)
    {
        int n = input.Length;
        if (kernel.Length != n) throw node.Invalid($"kernel {TensorShape.Format(kernel)} has {kernel.Length} spatial axes, the input {n}");
        Check(node, "strides", Strides, n);
        Check(node, "dilations", Dilations, n);
        Check(node, "pads", Pads, 2 * n);
        var axes = new Axis[n];
        for (int i = 0; i < n; i++)
        {
            int k = kernel[i], s = Strides?[i] ?? 1, d = Dilations?[i] ?? 1;
            int span = d * (k - 1) + 1;
            int begin, end, output;
            if (AutoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                output = (input[i] + s - 1) / s;
                int total = Math.Max(0, (output - 1) * s + span - input[i]);
                begin = AutoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                end = total - begin;
            }
            else
            {
                begin = Pads?[i] ?? 0;
                end = Pads?[i + n] ?? 0;
                int room = input[i] + begin + end - span;
                if (room < 0) throw node.Invalid($"the window of size {span} along spatial axis {i} does not fit input {input[i]} padded by {begin}+{end}");
                output = (CeilMode ? (room + s - 1) / s : room / s) + 1;
                // As PyTorch and ONNX Runtime: with ceil_mode the last window must start inside the input or its begin padding.
                if (CeilMode && (output - 1) * s >= input[i] + begin) output--;
            }
            axes[i] = new Axis(k, s, d, begin, end, output);
        }
        return axes;
    }

    private static int[]? Positive(OnnxNodeContext node, string name, bool allowZero)
    {
        var values = node.Ints(name);
        if (values is null) return null;
        foreach (long v in values)
            if (v < (allowZero ? 0 : 1) || v > 1 << 20) throw node.Invalid($"{name} {TensorShape.Format(values.Select(x => (int)Math.Clamp(x, int.MinValue, int.MaxValue)).ToArray())} has an out-of-range value {v}");
        return values.Select(v => (int)v).ToArray();
    }

    private static void Check(OnnxNodeContext node, string name, int[]? values, int expected)
    {
        if (values is not null && values.Length != expected) throw node.Invalid($"{name} has {values.Length} values, the input needs {expected}");
    }
}
