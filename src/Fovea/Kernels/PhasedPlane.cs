using System.Numerics.Tensors;

namespace Fovea.Kernels;

/// <summary>
/// One input plane of a convolution, zero-padded to the rows and columns its windows read, with the columns
/// of each row split by phase modulo the horizontal stride: row r holds the padded columns s ≡ 0 (mod sW) in
/// order, then s ≡ 1, …. Kernel tap (ki, kj) of output pixel (oh, ow) reads padded column ow·sW + kj·dW, which
/// is entry (kj·dW mod sW)·PhaseWidth + kj·dW / sW + ow: consecutive outputs read consecutive floats at any
/// stride, so a tap is a vector load. With stride 1 this is plain zero padding.
/// </summary>
internal readonly unsafe struct PhasedPlane
{
    private readonly ConvGeometry _g;

    public PhasedPlane(ConvGeometry g)
    {
        _g = g;
        Rows = (g.OutHeight - 1) * g.StrideHeight + (g.KernelHeight - 1) * g.DilationHeight + 1;
        Columns = (g.OutWidth - 1) * g.StrideWidth + (g.KernelWidth - 1) * g.DilationWidth + 1;
        PhaseWidth = (Columns + g.StrideWidth - 1) / g.StrideWidth;
    }

    /// <summary>Padded rows and columns the windows reach (the far padding beyond them is never read).</summary>
    public int Rows { get; }
    public int Columns { get; }

    /// <summary>Entries per phase in a row.</summary>
    public int PhaseWidth { get; }

    public int RowLength => _g.StrideWidth * PhaseWidth;

    /// <summary>Floats of the whole plane.</summary>
    public int Length => Rows * RowLength;

    /// <summary>Where output row <paramref name="oh"/>'s windows start.</summary>
    public int RowOffset(int oh) => oh * _g.StrideHeight * RowLength;

    /// <summary>For each tap ki·kW + kj, its offset from <see cref="RowOffset"/> + ow.</summary>
    public void TapOffsets(Span<int> offsets)
    {
        int kw = _g.KernelWidth;
        for (int ki = 0; ki < _g.KernelHeight; ki++)
            for (int kj = 0; kj < kw; kj++)
            {
                int column = kj * _g.DilationWidth;
                offsets[ki * kw + kj] = ki * _g.DilationHeight * RowLength + column % _g.StrideWidth * PhaseWidth + column / _g.StrideWidth;
            }
    }

    /// <summary>Writes the padded, phase-split copy of <paramref name="image"/> [H, W] into <paramref name="plane"/>.</summary>
    public void Fill(float* image, float* plane)
    {
        int width = _g.InWidth;
        for (int r = 0; r < Rows; r++)
        {
            var row = new Span<float>(plane + (long)r * RowLength, RowLength);
            int ih = r - _g.PadTop;
            if ((uint)ih >= (uint)_g.InHeight)
            {
                row.Clear();
                continue;
            }
            float* source = image + (long)ih * width;
            if (_g.StrideWidth == 1)
            {
                var (lo, hi) = InsideColumns();
                row[..lo].Clear();
                if (hi > lo) new ReadOnlySpan<float>(source + lo - _g.PadLeft, hi - lo).CopyTo(row[lo..]);
                row[Math.Max(lo, hi)..].Clear();
                continue;
            }
            for (int s = 0, phase = 0, q = 0; s < Columns; s++)
            {
                int iw = s - _g.PadLeft;
                row[phase * PhaseWidth + q] = (uint)iw < (uint)width ? source[iw] : 0f;
                if (++phase == _g.StrideWidth) (phase, q) = (0, q + 1);
            }
        }
    }

    /// <summary>The adjoint of <see cref="Fill"/>: adds each padded entry that is an image pixel into <paramref name="image"/> [H, W].</summary>
    public void AddBack(float* plane, float* image)
    {
        int width = _g.InWidth, rows = Math.Min(_g.InHeight, Rows - _g.PadTop);
        var (lo, hi) = InsideColumns();
        for (int ih = 0; ih < rows; ih++)
        {
            float* row = plane + (long)(ih + _g.PadTop) * RowLength;
            float* target = image + (long)ih * width - _g.PadLeft;
            if (_g.StrideWidth == 1 && hi > lo)
            {
                var t = new Span<float>(target + lo, hi - lo);
                TensorPrimitives.Add(t, new ReadOnlySpan<float>(row + lo, hi - lo), t);
            }
            else for (int s = lo; s < hi; s++) target[s] += row[s % _g.StrideWidth * PhaseWidth + s / _g.StrideWidth];
        }
    }

    /// <summary>The padded columns [lo, hi) that hold image pixels.</summary>
    private (int Lo, int Hi) InsideColumns() => (Math.Min(_g.PadLeft, Columns), Math.Min(Columns, _g.PadLeft + _g.InWidth));
}
