using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
        Rows = g.RowsRead;
        Columns = g.ColumnsRead;
        PhaseWidth = (Columns + g.StrideWidth - 1) / g.StrideWidth;
    }

    /// <summary>Padded rows and columns the windows reach (the far padding beyond them is never read).</summary>
    public int Rows { get; }
    public int Columns { get; }

    /// <summary>Entries per phase in a row.</summary>
    public int PhaseWidth { get; }

    public int RowLength => _g.StrideWidth * PhaseWidth;

    /// <summary>Floats of the whole plane, plus one vector of room for the stride-2 fill's overrun past the last row.</summary>
    public int Length => Rows * RowLength + 16;

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
        int width = _g.InWidth, stride = _g.StrideWidth;
        int* ranges = stackalloc int[2 * stride];
        PhaseRanges(ranges);
        bool splitByVectors = stride == 2 && Avx512F.IsSupported;
        for (int r = 0; r < Rows; r++)
        {
            float* row = plane + (long)r * RowLength;
            int ih = r - _g.PadTop;
            if ((uint)ih >= (uint)_g.InHeight)
            {
                new Span<float>(row, RowLength).Clear();
                continue;
            }
            float* source = image + (long)ih * width;
            if (stride == 1)
            {
                // Most rows are short (a small CNN's planes), where span calls cost more than the copy.
                int lo = ranges[0], hi = ranges[1];
                for (int q = 0; q < lo; q++) row[q] = 0f;
                Copy(source + lo - _g.PadLeft, row + lo, hi - lo);
                for (int q = hi; q < RowLength; q++) row[q] = 0f;
                continue;
            }
            if (splitByVectors)
            {
                SplitEvenOdd(source, row, ranges);
                continue;
            }
            // Strided layers are the small late ones: on their short rows plain loops cost less than span calls.
            for (int phase = 0; phase < stride; phase++)
            {
                float* entries = row + phase * PhaseWidth;
                float* column = source + phase - _g.PadLeft;
                int lo = ranges[2 * phase], hi = ranges[2 * phase + 1], q = 0;
                for (; q < lo; q++) entries[q] = 0f;
                for (; q < hi; q++) entries[q] = column[q * stride];
                for (; q < PhaseWidth; q++) entries[q] = 0f;
            }
        }
    }

    private static readonly Vector512<int> EvenLanes = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<int> Lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

    /// <summary>
    /// Stride 2 (MobileNet's downsampling layers): phase entries [lo, hi) are the image floats start, start + 2, …, read
    /// 32 at a time straight from the image (masked loads stop at the row's end, so nothing past the tensor is touched)
    /// and sorted out by one two-register permute, instead of one float at a time. A padded copy read back at once
    /// would stall on store forwarding. Stores may run up to 15 floats past hi: the zeros after hi, the next phase,
    /// the next row (all written later) or the plane's slack take them.
    /// </summary>
    private void SplitEvenOdd(float* source, float* row, int* ranges)
    {
        int width = _g.InWidth;
        var end = Vector512.Create(width);
        for (int phase = 0; phase < 2; phase++)
        {
            float* entries = row + phase * PhaseWidth;
            int lo = ranges[2 * phase], hi = ranges[2 * phase + 1], q = 0;
            for (; q < lo; q++) entries[q] = 0f;
            for (int start = 2 * lo + phase - _g.PadLeft; q < hi; q += 16, start += 32)
            {
                var first = Avx512F.MaskLoad(source + start, Vector512.LessThan(Vector512.Create(start) + Lanes, end).AsSingle(), Vector512<float>.Zero);
                var second = Avx512F.MaskLoad(source + start + 16, Vector512.LessThan(Vector512.Create(start + 16) + Lanes, end).AsSingle(), Vector512<float>.Zero);
                Avx512F.PermuteVar16x32x2(first, EvenLanes, second).Store(entries + q);
            }
            for (q = hi; q < PhaseWidth; q++) entries[q] = 0f;
        }
    }

    /// <summary>Copies <paramref name="count"/> floats with the widest vectors that fit, the last one overlapping the one before.</summary>
    private static void Copy(float* source, float* target, int count)
    {
        if (count >= 16 && Vector512.IsHardwareAccelerated)
        {
            for (int i = 0; i < count - 16; i += 16) Vector512.Load(source + i).Store(target + i);
            Vector512.Load(source + count - 16).Store(target + count - 16);
        }
        else if (count >= 8)
        {
            for (int i = 0; i < count - 8; i += 8) Vector256.Load(source + i).Store(target + i);
            Vector256.Load(source + count - 8).Store(target + count - 8);
        }
        else if (count >= 4)
        {
            Vector128.Load(source).Store(target);
            Vector128.Load(source + count - 4).Store(target + count - 4);
        }
        else for (int i = 0; i < count; i++) target[i] = source[i];
    }

    /// <summary>The adjoint of <see cref="Fill"/>: adds each padded entry that is an image pixel into <paramref name="image"/> [H, W].</summary>
    public void AddBack(float* plane, float* image)
    {
        int width = _g.InWidth, stride = _g.StrideWidth, rows = Math.Min(_g.InHeight, Rows - _g.PadTop);
        int* ranges = stackalloc int[2 * stride];
        PhaseRanges(ranges);
        for (int ih = 0; ih < rows; ih++)
        {
            float* row = plane + (long)(ih + _g.PadTop) * RowLength;
            float* target = image + (long)ih * width;
            for (int phase = 0; phase < stride; phase++)
            {
                float* entries = row + phase * PhaseWidth, column = target + phase - _g.PadLeft;
                int lo = ranges[2 * phase], hi = ranges[2 * phase + 1];
                if (stride == 1 && hi > lo)
                {
                    var t = new Span<float>(column + lo, hi - lo);
                    TensorPrimitives.Add(t, new ReadOnlySpan<float>(entries + lo, hi - lo), t);
                }
                else for (int q = lo; q < hi; q++) column[q * stride] += entries[q];
            }
        }
    }

    /// <summary>
    /// For each phase, the entries [lo, hi) that hold image pixels: entry q is padded column q·sW + phase, image
    /// column q·sW + phase − padLeft. The same for every row, so computed once per plane (divisions are slow).
    /// </summary>
    private void PhaseRanges(int* ranges)
    {
        int stride = _g.StrideWidth;
        for (int phase = 0; phase < stride; phase++)
        {
            int first = _g.PadLeft - phase;
            int lo = Math.Min(first <= 0 ? 0 : (first + stride - 1) / stride, PhaseWidth);
            int hi = Math.Clamp((Math.Min(_g.InWidth + _g.PadLeft, Columns) - phase + stride - 1) / stride, lo, PhaseWidth);
            ranges[2 * phase] = lo;
            ranges[2 * phase + 1] = hi;
        }
    }
}
