namespace Fovea.Kernels;

/// <summary>
/// The sizes of one 2-D convolution (or any op with a convolution's window: locally connected
/// layers): input [N, C, H, W], output [N, O, outH, outW], the kernel window and how it moves.
/// Built and validated once by <see cref="Of"/>, then handed to the kernels, which see only spans.
/// Padding is per side because PyTorch's "same" padding may be asymmetric.
/// </summary>
public sealed record ConvGeometry
{
    public int Batch { get; init; }
    public int InChannels { get; init; }
    public int InHeight { get; init; }
    public int InWidth { get; init; }
    public int OutChannels { get; init; }
    public int OutHeight { get; init; }
    public int OutWidth { get; init; }
    public int KernelHeight { get; init; }
    public int KernelWidth { get; init; }
    public int StrideHeight { get; init; }
    public int StrideWidth { get; init; }
    public int PadTop { get; init; }
    public int PadBottom { get; init; }
    public int PadLeft { get; init; }
    public int PadRight { get; init; }
    public int DilationHeight { get; init; }
    public int DilationWidth { get; init; }
    public int Groups { get; init; }

    public int InChannelsPerGroup => InChannels / Groups;
    public int OutChannelsPerGroup => OutChannels / Groups;
    public int InPixels => InHeight * InWidth;
    public int OutPixels => OutHeight * OutWidth;

    /// <summary>
    /// Rows and columns of the padded input that the windows reach, from the first padding row and column (the far
    /// padding beyond them is never read): what a kernel that pads a copy of the input needs to fill.
    /// </summary>
    public int RowsRead => (OutHeight - 1) * StrideHeight + (KernelHeight - 1) * DilationHeight + 1;
    public int ColumnsRead => (OutWidth - 1) * StrideWidth + (KernelWidth - 1) * DilationWidth + 1;

    /// <summary>Inputs one output value reads: (C / groups)·kH·kW, the rows of the im2col matrix and the fan-in.</summary>
    public int WindowLength => InChannelsPerGroup * KernelHeight * KernelWidth;

    /// <summary>Floats of one group's im2col matrix [WindowLength, OutPixels].</summary>
    public int ColumnsLength => WindowLength * OutPixels;

    /// <summary>A 1×1, stride-1, unpadded window: the image itself is the im2col matrix, so the copy is skipped.</summary>
    public bool IsPointwise => KernelHeight == 1 && KernelWidth == 1 && StrideHeight == 1 && StrideWidth == 1
        && PadTop == 0 && PadBottom == 0 && PadLeft == 0 && PadRight == 0;

    public TensorShape InputShape => new(Batch, InChannels, InHeight, InWidth);
    public TensorShape OutputShape => new(Batch, OutChannels, OutHeight, OutWidth);

    /// <summary>
    /// Validates the arguments of <paramref name="op"/> (e.g. "Conv2d(3→16)", used as the prefix of every
    /// message) against <paramref name="input"/> and computes the output size
    /// ⌊(H + padTop + padBottom − dilation·(k − 1) − 1) / stride⌋ + 1 per axis.
    /// </summary>
    public static ConvGeometry Of(string op, TensorShape input, int inChannels, int outChannels,
        (int Height, int Width) kernel, (int Height, int Width) stride, Padding2d padding, (int Height, int Width) dilation, int groups = 1)
    {
        if (inChannels <= 0 || outChannels <= 0)
            throw new ArgumentException($"{op}: channels must be positive. Received in_channels={inChannels}, out_channels={outChannels}");
        if (kernel.Height <= 0 || kernel.Width <= 0) throw new ArgumentException($"{op}: kernel size must be positive. Received {Pair(kernel)}");
        if (stride.Height <= 0 || stride.Width <= 0) throw new ArgumentException($"{op}: stride must be positive. Received {Pair(stride)}");
        if (dilation.Height <= 0 || dilation.Width <= 0) throw new ArgumentException($"{op}: dilation must be positive. Received {Pair(dilation)}");
        if (padding.Height < 0 || padding.Width < 0) throw new ArgumentException($"{op}: padding must be non-negative. Received {padding}");
        if (padding.IsSame && (stride.Height != 1 || stride.Width != 1))
            throw new ArgumentException($"{op}: padding \"same\" needs stride 1, as in PyTorch. Received stride {Pair(stride)}");
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"{op}: groups ({groups}) must be positive and divide both in_channels ({inChannels}) and out_channels ({outChannels}).");
        if (input.Rank != 4 || input[1] != inChannels)
            throw new ArgumentException($"{op}: expected input [N, {inChannels}, H, W], received {input}");

        var (top, bottom, left, right) = padding.Resolve(kernel, dilation);
        int outH = OutSize(input[2], top + bottom, kernel.Height, stride.Height, dilation.Height);
        int outW = OutSize(input[3], left + right, kernel.Width, stride.Width, dilation.Width);
        if (outH <= 0 || outW <= 0)
            throw new ArgumentException($"{op}: kernel {Pair(kernel)} (dilation {Pair(dilation)}) does not fit input {input} padded by {padding}: output would be {outH}×{outW}");
        return new ConvGeometry
        {
            Batch = input[0], InChannels = inChannels, InHeight = input[2], InWidth = input[3],
            OutChannels = outChannels, OutHeight = outH, OutWidth = outW,
            KernelHeight = kernel.Height, KernelWidth = kernel.Width,
            StrideHeight = stride.Height, StrideWidth = stride.Width,
            PadTop = top, PadBottom = bottom, PadLeft = left, PadRight = right,
            DilationHeight = dilation.Height, DilationWidth = dilation.Width,
            Groups = groups,
        };
    }

    // Floor division done by hand: C#'s / truncates towards zero, which would turn a negative size into 1.
    private static int OutSize(int size, int totalPad, int kernel, int stride, int dilation)
    {
        int span = size + totalPad - dilation * (kernel - 1) - 1;
        return span < 0 ? -((-span + stride - 1) / stride) + 1 : span / stride + 1;
    }

    private static string Pair((int Height, int Width) p) => $"{p.Height}×{p.Width}";
}
