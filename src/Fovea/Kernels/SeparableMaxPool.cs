using System.Numerics;

namespace Fovea.Kernels;

/// <summary>
/// Max pooling of one plane as two 1-D passes, for undilated windows when no argmax is needed (inference):
/// each input row's maxima over the windows' columns, then, per output row, the maxima of those over the
/// window's rows — k + k comparisons per output instead of k·k, in simple loops whose second pass is
/// vectorised. Same values as the direct loop, including which of +0 and −0 and which NaN wins: the first
/// in row-major window order (a later tap wins only when greater, or NaN), and separating rows from
/// columns keeps that order — the first row holding the maximum, then its first column.
/// </summary>
internal static class SeparableMaxPool
{
    public static bool Supports(PoolGeometry g) => g.DilationH == 1 && g.DilationW == 1 && g.KernelH * g.KernelW > 4;

    public static void Plane(ReadOnlySpan<float> x, Span<float> y, PoolGeometry g, Span<float> rowMaxima)
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
}
