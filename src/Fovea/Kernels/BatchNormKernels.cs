using System.Numerics;
using System.Numerics.Tensors;

namespace Fovea.Kernels;

/// <summary>
/// Batch normalisation over one run of a channel (the H·W values of one sample in one channel). The
/// functional op walks a channel's runs twice in a row, so the second walk reads from cache: statistics
/// then normalisation forward, gradient sums then input gradient backward. A ReLU that follows the
/// normalisation is fused in: forward clamps the run it has just written, backward passes dy only where
/// that output is positive (as the ReLU's own backward would), so the ReLU costs no pass of its own.
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
    /// (Σ dy, Σ dy·(x − mean)) over a run. With a non-empty <paramref name="reluOutput"/> dy counts only where
    /// that output is positive: the gradient that reached the normalisation through the fused ReLU.
    /// </summary>
    public static (float SumDy, float SumDyCentered) GradientSums(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, float mean, ReadOnlySpan<float> reluOutput)
    {
        bool masked = !reluOutput.IsEmpty;
        int i = 0, width = Vector<float>.Count;
        Vector<float> sum = Vector<float>.Zero, dot = Vector<float>.Zero;
        if (Vector.IsHardwareAccelerated)
        {
            var vm = new Vector<float>(mean);
            for (; i <= x.Length - width; i += width)
            {
                var g = new Vector<float>(dy[i..]);
                if (masked) g = Vector.ConditionalSelect(Vector.GreaterThan(new Vector<float>(reluOutput[i..]), Vector<float>.Zero), g, Vector<float>.Zero);
                sum += g;
                dot += g * (new Vector<float>(x[i..]) - vm);
            }
        }
        float sumDy = Vector.Sum(sum), sumDyCentered = Vector.Sum(dot);
        for (; i < x.Length; i++)
        {
            float g = masked && !(reluOutput[i] > 0f) ? 0f : dy[i];
            sumDy += g;
            sumDyCentered += g * (x[i] - mean);
        }
        return (sumDy, sumDyCentered);
    }

    /// <summary>
    /// gx = k·dy + centeredCoef·(x − mean) + constant, stored when <paramref name="overwrite"/> (gx held nothing
    /// yet), otherwise added to gx; dy is masked by <paramref name="reluOutput"/> as in <see cref="GradientSums"/>.
    /// </summary>
    public static void InputGradient(Span<float> gx, bool overwrite, ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> reluOutput,
        float k, float centeredCoef, float mean, float constant)
    {
        bool masked = !reluOutput.IsEmpty;
        int i = 0, width = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> vk = new(k), vc = new(centeredCoef), vm = new(mean), vb = new(constant);
            for (; i <= x.Length - width; i += width)
            {
                var g = new Vector<float>(dy[i..]);
                if (masked) g = Vector.ConditionalSelect(Vector.GreaterThan(new Vector<float>(reluOutput[i..]), Vector<float>.Zero), g, Vector<float>.Zero);
                var value = vk * g + vc * (new Vector<float>(x[i..]) - vm) + vb;
                if (!overwrite) value += new Vector<float>(gx[i..]);
                value.CopyTo(gx[i..]);
            }
        }
        for (; i < x.Length; i++)
        {
            float g = masked && !(reluOutput[i] > 0f) ? 0f : dy[i];
            float value = k * g + centeredCoef * (x[i] - mean) + constant;
            gx[i] = overwrite ? value : gx[i] + value;
        }
    }
}
