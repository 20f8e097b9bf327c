using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// Max pooling of one plane as two 1-D passes, for undilated windows when no argmax is needed (inference):
/// each input row's maxima over the windows' columns, then, per output row, the maxima of those over the
/// window's rows — k + k comparisons per output instead of k·k. Same values as the direct loop, including
/// which of +0 and −0 and which NaN wins: the first in row-major window order (a later tap wins only when
/// greater, or NaN), and separating rows from columns keeps that order — the first row holding the maximum,
/// then its first column.
/// With AVX-512 and column strides of 1 or 2 both passes run 16 outputs at a time, a window's column taps read by
/// <see cref="StridedColumns"/> (−∞ outside the row: a padding tap never wins). The scalar first pass's
/// data-dependent branches mispredicted on every other tap (3×3 stride-2 pools ran at 3–4 ns an output).
/// </summary>
internal static unsafe class SeparableMaxPool
{
    public static bool Supports(PoolGeometry g) => g.DilationH == 1 && g.DilationW == 1 && g.KernelH * g.KernelW > 4;

    /// <summary>Floats of scratch <see cref="Plane"/> needs: the row maxima.</summary>
    public static int ScratchLength(PoolGeometry g) => g.InH * RowStride(g);

    private static bool Vectorised(PoolGeometry g) => Avx512F.IsSupported && g.StrideW <= 2;

    /// <summary>Row maxima are kept in whole vectors when vectorised, so the second pass needs no tail.</summary>
    private static int RowStride(PoolGeometry g) => Vectorised(g) ? (g.OutW + 15) & ~15 : g.OutW;

    public static void Plane(ReadOnlySpan<float> x, Span<float> y, PoolGeometry g, Span<float> scratch)
    {
        if (Vectorised(g)) PlaneAvx512(x, y, g, scratch);
        else PlaneScalar(x, y, g, scratch);
    }

    private static void PlaneScalar(ReadOnlySpan<float> x, Span<float> y, PoolGeometry g, Span<float> rowMaxima)
    {
        int outW = g.OutW, inW = g.InW;
        for (int ih = 0; ih < g.InH; ih++)
        {
            var src = x.Slice(ih * inW, inW);
            var dst = rowMaxima.Slice(ih * outW, outW);
            for (int ow = 0; ow < outW; ow++)
            {
                int start = ow * g.StrideW - g.PadW, end = Math.Min(start + g.KernelW, inW);
                float max = float.NegativeInfinity;
                for (int iw = Math.Max(0, start); iw < end; iw++)
                {
                    float v = src[iw];
                    if (v > max || float.IsNaN(v)) max = v;
                }
                dst[ow] = max;
            }
        }
        for (int oh = 0; oh < g.OutH; oh++)
        {
            int start = oh * g.StrideH - g.PadH, end = Math.Min(start + g.KernelH, g.InH);
            var output = y.Slice(oh * outW, outW);
            output.Fill(float.NegativeInfinity);
            for (int ih = Math.Max(0, start); ih < end; ih++) Take(output, rowMaxima.Slice(ih * outW, outW));
        }
    }

    /// <summary>max[i] = row[i] where row[i] &gt; max[i] or row[i] is NaN (the direct loop's rule).</summary>
    private static void Take(Span<float> max, ReadOnlySpan<float> row)
    {
        int i = 0;
        for (; i <= max.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var m = new Vector<float>(max[i..]);
            var v = new Vector<float>(row[i..]);
            var wins = Vector.GreaterThan(v, m) | ~Vector.Equals(v, v);
            Vector.ConditionalSelect(wins, v, m).CopyTo(max[i..]);
        }
        for (; i < max.Length; i++)
            if (row[i] > max[i] || float.IsNaN(row[i])) max[i] = row[i];
    }

    private static void PlaneAvx512(ReadOnlySpan<float> x, Span<float> y, PoolGeometry g, Span<float> rowMaxima)
    {
        int stride = RowStride(g), blocks = stride / 16, inW = g.InW, outW = g.OutW;
        var minusInfinity = Vector512.Create(float.NegativeInfinity);
        fixed (float* px = x, py = y, rows = rowMaxima)
        {
            bool threeByTwo = g.KernelW == 3 && g.StrideW == 2;
            for (int ih = 0; ih < g.InH; ih++)
            {
                float* src = px + ih * inW, dst = rows + ih * stride;
                for (int b = 0; b < blocks; b++)
                {
                    // Output 16b + j reads column (16b + j)·StrideW − PadW + kw.
                    Vector512<float> best;
                    if (threeByTwo) best = RowMaxima3By2(src, 32 * b - g.PadW, inW, minusInfinity);
                    else
                    {
                        best = minusInfinity;
                        for (int kw = 0; kw < g.KernelW; kw++)
                            best = Winner(best, StridedColumns.Load(src, 16 * b * g.StrideW - g.PadW + kw, inW, g.StrideW, minusInfinity));
                    }
                    best.Store(dst + 16 * b);
                }
            }
            for (int oh = 0; oh < g.OutH; oh++)
            {
                int start = oh * g.StrideH - g.PadH, end = Math.Min(start + g.KernelH, g.InH);
                float* output = py + oh * outW;
                for (int b = 0; b < blocks; b++)
                {
                    var best = minusInfinity;
                    for (int ih = Math.Max(0, start); ih < end; ih++) best = Winner(best, Vector512.Load(rows + ih * stride + 16 * b));
                    StridedColumns.Store(output + 16 * b, best, outW - 16 * b);
                }
            }
        }
    }

    /// <summary>
    /// A 3-wide, stride-2 window's row maxima for 16 outputs whose windows start at columns first, first + 2, …: the row's
    /// 33 columns are read once, as even columns E, odd columns O and E moved on by one lane, and the taps taken in the
    /// window's order (E, O, E + 1), as the general loop takes them (from −∞, which E always beats or equals). The general
    /// loop reads two vectors and permutes them for each tap; SqueezeNet's 3×3 stride-2 pools spent about 800 cycles a
    /// 23×23 plane.
    /// </summary>
    private static Vector512<float> RowMaxima3By2(float* row, int first, int width, Vector512<float> minusInfinity)
    {
        var low = StridedColumns.Contiguous(row, first, width, minusInfinity);
        var high = StridedColumns.Contiguous(row, first + 16, width, minusInfinity);
        var next = StridedColumns.Contiguous(row, first + 32, width, minusInfinity);
        var even = Avx512F.PermuteVar16x32x2(low, Vector512<int>.Indices * 2, high);
        var odd = Avx512F.PermuteVar16x32x2(low, Vector512<int>.Indices * 2 + Vector512<int>.One, high);
        // Lanes 1…15 of E, then column first + 32.
        var evenOn = Avx512F.AlignRight32(next.AsUInt32(), even.AsUInt32(), 1).AsSingle();
        return Winner(Winner(even, odd), evenOn);
    }

    /// <summary>
    /// The tap where it is greater than the best so far, or NaN (the direct loop's rule), lane by lane. x86's max returns
    /// its second operand unless the first is greater (equal values, a NaN in either), so max(tap, best) is the rule but
    /// for a NaN tap, which the select then takes: one compare on the port the compares share instead of two (the fused
    /// pools were bound by them).
    /// </summary>
    internal static Vector512<float> Winner(Vector512<float> best, Vector512<float> tap) =>
        Vector512.ConditionalSelect(Vector512.IsNaN(tap), tap, Avx512F.Max(tap, best));
}
