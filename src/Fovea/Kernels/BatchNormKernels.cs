using System.Numerics;
using System.Numerics.Tensors;

namespace Fovea.Kernels;

/// <summary>
/// Batch normalisation over one run of a channel (the H·W values of one sample in one channel). The
/// functional op walks a channel's runs twice in a row, so the second walk reads from cache: statistics
/// then normalisation forward, gradient sums then input gradient backward. A ReLU that follows the
/// normalisation is fused in: forward clamps the run it has just written, backward passes dy only where
/// that output was positive (as the ReLU's own backward would), so the ReLU costs no pass of its own.
/// </summary>
internal static class BatchNormKernels
{
    /// <summary>Σ (a − ma)·(b − mb), centred before multiplying so large means do not cancel digits away.</summary>
    public static float CenteredDot(ReadOnlySpan<float> a, float ma, ReadOnlySpan<float> b, float mb)
    {
        int i = 0, width = Vector<float>.Count;
        var acc = Vector<float>.Zero;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> vma = new(ma), vmb = new(mb);
            for (; i <= a.Length - width; i += width) acc += (new Vector<float>(a[i..]) - vma) * (new Vector<float>(b[i..]) - vmb);
        }
        float sum = Vector.Sum(acc);
        for (; i < a.Length; i++) sum += (a[i] - ma) * (b[i] - mb);
        return sum;
    }

    /// <summary>y = (x − mean)·scale + shift, then max(y, 0) when <paramref name="relu"/>.</summary>
    public static void Normalize(ReadOnlySpan<float> x, float mean, float scale, float shift, bool relu, Span<float> y)
    {
        int i = 0, width = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> vm = new(mean), vs = new(scale), vb = new(shift);
            for (; i <= x.Length - width; i += width) ((new Vector<float>(x[i..]) - vm) * vs + vb).CopyTo(y[i..]);
        }
        for (; i < x.Length; i++) y[i] = (x[i] - mean) * scale + shift;
        // The run is still in L1; TensorPrimitives.Max is what F.Relu runs, NaN handling included.
        if (relu) TensorPrimitives.Max(y, 0f, y);
    }

    /// <summary>
    /// (Σ dy, Σ dy·(x − mean)) over a run. With <paramref name="relu"/>, dy counts only where the fused ReLU's
    /// output was positive: the gradient that reached the normalisation through it. That output is recomputed
    /// from x exactly as <see cref="Normalize"/> computed it (same operations, same vector/scalar split of the
    /// run, so the same bits) instead of being read back: one stream of memory fewer.
    /// </summary>
    public static (float SumDy, float SumDyCentered) GradientSums(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, float mean, bool relu, float scale, float shift)
    {
        int i = 0, width = Vector<float>.Count;
        Vector<float> sum = Vector<float>.Zero, dot = Vector<float>.Zero;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> vm = new(mean), vs = new(scale), vb = new(shift);
            for (; i <= x.Length - width; i += width)
            {
                var g = new Vector<float>(dy[i..]);
                var centered = new Vector<float>(x[i..]) - vm;
                if (relu) g = Vector.ConditionalSelect(Vector.GreaterThan(centered * vs + vb, Vector<float>.Zero), g, Vector<float>.Zero);
                sum += g;
                dot += g * centered;
            }
        }
        float sumDy = Vector.Sum(sum), sumDyCentered = Vector.Sum(dot);
        for (; i < x.Length; i++)
        {
            float centered = x[i] - mean, g = relu && !(centered * scale + shift > 0f) ? 0f : dy[i];
            sumDy += g;
            sumDyCentered += g * centered;
        }
        return (sumDy, sumDyCentered);
    }

    /// <summary>
    /// gx = scale·dy + centeredCoef·(x − mean) + constant (scale = weight/σ, the forward's), stored when <paramref name="overwrite"/> (gx held nothing
    /// yet), otherwise added to gx; dy is gated by the fused ReLU as in <see cref="GradientSums"/>.
    /// </summary>
    public static void InputGradient(Span<float> gx, bool overwrite, ReadOnlySpan<float> dy, ReadOnlySpan<float> x, float mean, bool relu, float scale, float shift,
        float centeredCoef, float constant)
    {
        int i = 0, width = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> vc = new(centeredCoef), vm = new(mean), vb = new(constant), vs = new(scale), vshift = new(shift);
            for (; i <= x.Length - width; i += width)
            {
                var g = new Vector<float>(dy[i..]);
                var centered = new Vector<float>(x[i..]) - vm;
                if (relu) g = Vector.ConditionalSelect(Vector.GreaterThan(centered * vs + vshift, Vector<float>.Zero), g, Vector<float>.Zero);
                var value = vs * g + vc * centered + vb;
                if (!overwrite) value += new Vector<float>(gx[i..]);
                value.CopyTo(gx[i..]);
            }
        }
        for (; i < x.Length; i++)
        {
            float centered = x[i] - mean, g = relu && !(centered * scale + shift > 0f) ? 0f : dy[i];
            float value = scale * g + centeredCoef * centered + constant;
            gx[i] = overwrite ? value : gx[i] + value;
        }
    }
}
