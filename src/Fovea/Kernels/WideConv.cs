namespace Fovea.Kernels;

/// <summary>
/// A stride-1 convolution laid out for the implicit GEMM. Every source plane is zero-padded to
/// PaddedHeight × PaddedWidth and the output is computed "wide": PaddedWidth columns per output row,
/// of which the first OutWidth are real and the rest are discarded. In that layout the im2col row of
/// tap (c, ki, kj) is the padded source shifted by c·PlaneLength + ki·dH·PaddedWidth + kj·dW, so the
/// micro-kernel reads it in place: no im2col matrix is written and B is never packed.
/// </summary>
internal readonly struct WideConv
{
    /// <summary>
    /// Source planes [channels, height, width], padded per side; <paramref name="tileCols"/> is the width of
    /// the micro-tile, to a multiple of which the wide output is padded.
    /// </summary>
    public WideConv(int channels, int height, int width, (int Height, int Width) kernel, (int Height, int Width) dilation,
        int padTop, int padBottom, int padLeft, int padRight, int tileCols)
    {
        Channels = channels;
        Height = height;
        Width = width;
        Kernel = kernel;
        Dilation = dilation;
        PadTop = padTop;
        PadLeft = padLeft;
        PaddedHeight = height + padTop + padBottom;
        PaddedWidth = width + padLeft + padRight;
        OutHeight = PaddedHeight - (kernel.Height - 1) * dilation.Height;
        OutWidth = PaddedWidth - (kernel.Width - 1) * dilation.Width;
        WideLength = OutHeight * PaddedWidth;
        WideStride = (WideLength + tileCols - 1) / tileCols * tileCols;
        // The last tile reads up to WideStride − WideLength columns past the real ones, and the last
        // tap of a wide row (kW − 1)·dW past the plane: that slack is zeroed, never read as output.
        PaddedLength = channels * PlaneLength + WideStride - WideLength + (kernel.Width - 1) * dilation.Width;
    }

    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public (int Height, int Width) Kernel { get; }
    public (int Height, int Width) Dilation { get; }
    public int PadTop { get; }
    public int PadLeft { get; }
    public int PaddedHeight { get; }
    public int PaddedWidth { get; }
    public int OutHeight { get; }
    public int OutWidth { get; }
    public int PlaneLength => PaddedHeight * PaddedWidth;

    /// <summary>Wide output columns that hold results: OutHeight · PaddedWidth.</summary>
    public int WideLength { get; }

    /// <summary>Row stride of the wide output: WideLength rounded up to whole micro-tiles.</summary>
    public int WideStride { get; }

    /// <summary>Floats of the padded source, slack included.</summary>
    public int PaddedLength { get; }

    /// <summary>Taps per output value, Channels·kH·kW: the depth of the GEMM.</summary>
    public int Depth => Channels * Kernel.Height * Kernel.Width;

    /// <summary>Where each tap's im2col row starts in the padded source, in (c, ki, kj) order (PyTorch's weight order).</summary>
    public void TapOffsets(Span<int> offsets)
    {
        int t = 0;
        for (int c = 0; c < Channels; c++)
            for (int ki = 0; ki < Kernel.Height; ki++)
                for (int kj = 0; kj < Kernel.Width; kj++)
                    offsets[t++] = c * PlaneLength + ki * Dilation.Height * PaddedWidth + kj * Dilation.Width;
    }

    /// <summary>Copies <paramref name="source"/> [Channels, Height, Width] into the zero-padded layout.</summary>
    public unsafe void Pad(ReadOnlySpan<float> source, Span<float> padded)
    {
        padded = padded[..PaddedLength];
        padded.Clear();
        fixed (float* src = source, dst = padded)
        {
            for (int c = 0; c < Channels; c++)
                RowCopy.Copy(src + c * Height * Width, Width, dst + c * PlaneLength + PadTop * PaddedWidth + PadLeft, PaddedWidth, Height, Width);
        }
    }

    /// <summary>
    /// Writes the real columns of rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) of <paramref name="wide"/>
    /// ([rows, WideStride]) into the same rows of <paramref name="output"/> ([rows, OutHeight, OutWidth]): plus
    /// bias[row] when a bias is given, or added to what output holds when <paramref name="accumulate"/> is set.
    /// </summary>
    public unsafe void Narrow(ReadOnlySpan<float> wide, Span<float> output, int firstRow, int endRow, ReadOnlySpan<float> bias, bool accumulate)
    {
        int outPlane = OutHeight * OutWidth;
        if (wide.Length < endRow * WideStride || output.Length < endRow * outPlane || (!bias.IsEmpty && bias.Length < endRow))
            throw new ArgumentException("WideConv.Narrow: buffers too short.");
        fixed (float* src = wide, dst = output)
        {
            for (int r = firstRow; r < endRow; r++)
            {
                float* from = src + (long)r * WideStride, to = dst + (long)r * outPlane;
                if (accumulate) RowCopy.Accumulate(from, PaddedWidth, to, OutWidth, OutHeight, OutWidth);
                else if (!bias.IsEmpty) RowCopy.CopyShifted(from, PaddedWidth, to, OutWidth, OutHeight, OutWidth, bias[r]);
                else RowCopy.Copy(from, PaddedWidth, to, OutWidth, OutHeight, OutWidth);
            }
        }
    }

    /// <summary>
    /// Like <see cref="Narrow(ReadOnlySpan{float}, Span{float}, int, int, ReadOnlySpan{float}, bool)"/> without accumulation, then <paramref name="epilogue"/> applied: <paramref name="output"/>
    /// is [rows, OutHeight, OutWidth], or [rows, OutHeight / 2, OutWidth / 2] when the epilogue pools.
    /// </summary>
    public unsafe void Narrow(ReadOnlySpan<float> wide, Span<float> output, int firstRow, int endRow, ReadOnlySpan<float> bias, ConvEpilogue epilogue)
    {
        int outPlane = epilogue.OutputPlane(OutHeight, OutWidth);
        if (wide.Length < endRow * WideStride || output.Length < endRow * outPlane || (!bias.IsEmpty && bias.Length < endRow))
            throw new ArgumentException("WideConv.Narrow: buffers too short.");
        fixed (float* src = wide, dst = output)
        {
            for (int r = firstRow; r < endRow; r++)
                epilogue.Apply(src + (long)r * WideStride, PaddedWidth, OutHeight, OutWidth, dst + (long)r * outPlane, r, bias);
        }
    }

    /// <summary>
    /// Copies <paramref name="output"/> [rows, OutHeight, OutWidth] into the wide layout [paddedRows, stride]
    /// with zeros in the discarded columns and in rows past <paramref name="rows"/>: the gradient of the output
    /// as the weight gradient reads it.
    /// </summary>
    public unsafe void Widen(ReadOnlySpan<float> output, Span<float> wide, int rows, int paddedRows, int stride)
    {
        int outPlane = OutHeight * OutWidth;
        wide = wide[..(paddedRows * stride)];
        wide.Clear();
        if (output.Length < rows * outPlane || stride < WideLength) throw new ArgumentException("WideConv.Widen: buffers too short.");
        fixed (float* src = output, dst = wide)
        {
            for (int r = 0; r < rows; r++)
                RowCopy.Copy(src + (long)r * outPlane, OutWidth, dst + (long)r * stride, PaddedWidth, OutHeight, OutWidth);
        }
    }
}
