namespace Fovea.Kernels;

/// <summary>
/// Max, average and adaptive-average pooling over N·C independent H×W planes, forward and backward.
/// Work is split over planes, so every plane is computed (and its gradient accumulated) by one thread
/// in a fixed order: results do not depend on the thread count. Buffers are <see cref="Memory{T}"/>
/// because the per-thread lambdas cannot capture spans; gradients are added (+=), never overwritten.
/// </summary>
public static class PoolKernels
{
    // Below about this many window reads a chunk is not worth a thread.
    private const int MinWorkPerChunk = 1 << 15;

    private static int PlanesPerChunk(int outPlane, int window) => Math.Max(1, MinWorkPerChunk / Math.Max(1, outPlane * window));

    /// <summary>
    /// y = max over each (dilated) window; <paramref name="argmax"/> receives the in-plane index of the
    /// winner (-1 when the window holds no input element), or is empty when no backward will follow.
    /// NaN wins, as in PyTorch.
    /// </summary>
    public static void MaxForward(ReadOnlyMemory<float> x, Memory<float> y, Memory<int> argmax, PoolGeometry g)
    {
        int inPlane = g.InH * g.InW, outPlane = g.OutH * g.OutW;
        Parallelism.For(g.Planes, (start, end) =>
        {
            for (int p = start; p < end; p++)
            {
                var winners = argmax.IsEmpty ? Span<int>.Empty : argmax.Span.Slice(p * outPlane, outPlane);
                MaxPlane(x.Span.Slice(p * inPlane, inPlane), y.Span.Slice(p * outPlane, outPlane), winners, g);
            }
        }, PlanesPerChunk(outPlane, g.KernelH * g.KernelW));
    }

    private static void MaxPlane(ReadOnlySpan<float> x, Span<float> y, Span<int> argmax, PoolGeometry g)
    {
        for (int oh = 0; oh < g.OutH; oh++)
        {
            var (hs, he) = DilatedRange(oh * g.StrideH - g.PadH, g.KernelH, g.DilationH, g.InH);
            for (int ow = 0; ow < g.OutW; ow++)
            {
                var (ws, we) = DilatedRange(ow * g.StrideW - g.PadW, g.KernelW, g.DilationW, g.InW);
                int best = hs < he && ws < we ? hs * g.InW + ws : -1;
                float max = float.NegativeInfinity;
                for (int ih = hs; ih < he; ih += g.DilationH)
                {
                    for (int iw = ws; iw < we; iw += g.DilationW)
                    {
                        float v = x[ih * g.InW + iw];
                        if (v > max || float.IsNaN(v))
                        {
                            max = v;
                            best = ih * g.InW + iw;
                        }
                    }
                }
                int o = oh * g.OutW + ow;
                y[o] = max;
                if (!argmax.IsEmpty) argmax[o] = best;
            }
        }
    }

    /// <summary>
    /// The in-bounds taps of a dilated window starting at <paramref name="start"/>: the first one
    /// (skipping taps in the leading padding by whole dilation steps) and an exclusive end.
    /// </summary>
    private static (int Start, int End) DilatedRange(int start, int kernel, int dilation, int size)
    {
        int first = start;
        while (first < 0) first += dilation;
        return (first, Math.Min(start + (kernel - 1) * dilation + 1, size));
    }

    /// <summary>dx[argmax] += dy: each output's gradient goes to the element that won its window.</summary>
    public static void MaxBackward(ReadOnlyMemory<float> dy, Memory<float> dx, ReadOnlyMemory<int> argmax, PoolGeometry g)
    {
        int inPlane = g.InH * g.InW, outPlane = g.OutH * g.OutW;
        Parallelism.For(g.Planes, (start, end) =>
        {
            for (int p = start; p < end; p++)
            {
                var gy = dy.Span.Slice(p * outPlane, outPlane);
                var winners = argmax.Span.Slice(p * outPlane, outPlane);
                var gx = dx.Span.Slice(p * inPlane, inPlane);
                for (int o = 0; o < outPlane; o++)
                    if (winners[o] >= 0) gx[winners[o]] += gy[o];
            }
        }, PlanesPerChunk(outPlane, 1));
    }

    /// <summary>
    /// y = mean over each window. The divisor is PyTorch's: the window clipped to input + padding
    /// (it can overhang the right padding in ceil mode) when padding counts, else only the input part.
    /// </summary>
    public static void AvgForward(ReadOnlyMemory<float> x, Memory<float> y, PoolGeometry g) =>
        AvgPlanes(x, y, g, backward: false);

    /// <summary>dx += dy / divisor over every element of each output's window.</summary>
    public static void AvgBackward(ReadOnlyMemory<float> dy, Memory<float> dx, PoolGeometry g) =>
        AvgPlanes(dy, dx, g, backward: true);

    // Forward and backward walk the same windows with the same divisors; only the direction differs.
    private static void AvgPlanes(ReadOnlyMemory<float> source, Memory<float> target, PoolGeometry g, bool backward)
    {
        int inPlane = g.InH * g.InW, outPlane = g.OutH * g.OutW;
        int sourcePlane = backward ? outPlane : inPlane, targetPlane = backward ? inPlane : outPlane;
        Parallelism.For(g.Planes, (start, end) =>
        {
            for (int p = start; p < end; p++)
            {
                var s = source.Span.Slice(p * sourcePlane, sourcePlane);
                var t = target.Span.Slice(p * targetPlane, targetPlane);
                for (int oh = 0; oh < g.OutH; oh++)
                {
                    var (hs, he, paddedH) = AvgRange(oh * g.StrideH - g.PadH, g.KernelH, g.InH, g.PadH);
                    for (int ow = 0; ow < g.OutW; ow++)
                    {
                        var (ws, we, paddedW) = AvgRange(ow * g.StrideW - g.PadW, g.KernelW, g.InW, g.PadW);
                        int divisor = g.CountIncludePad ? paddedH * paddedW : (he - hs) * (we - ws);
                        int o = oh * g.OutW + ow;
                        if (backward) SpreadWindow(s[o] / divisor, t, g.InW, hs, he, ws, we);
                        else t[o] = SumWindow(s, g.InW, hs, he, ws, we) / divisor;
                    }
                }
            }
        }, PlanesPerChunk(outPlane, g.KernelH * g.KernelW));
    }

    /// <summary>The in-bounds range of a window and its length counting padding (clipped to input + padding).</summary>
    private static (int Start, int End, int Padded) AvgRange(int start, int kernel, int size, int pad)
    {
        int end = Math.Min(start + kernel, size + pad);
        return (Math.Max(start, 0), Math.Min(end, size), end - start);
    }

    /// <summary>
    /// Adaptive average pooling: output cell i covers input [floor(i·H/out), ceil((i+1)·H/out)), as in
    /// PyTorch, so windows may overlap and differ in size when out does not divide H.
    /// </summary>
    public static void AdaptiveAvgForward(ReadOnlyMemory<float> x, Memory<float> y, int planes, int inH, int inW, int outH, int outW) =>
        AdaptivePlanes(x, y, planes, inH, inW, outH, outW, backward: false);

    /// <summary>dx += dy / count over every element of each output's adaptive window.</summary>
    public static void AdaptiveAvgBackward(ReadOnlyMemory<float> dy, Memory<float> dx, int planes, int inH, int inW, int outH, int outW) =>
        AdaptivePlanes(dy, dx, planes, inH, inW, outH, outW, backward: true);

    private static void AdaptivePlanes(ReadOnlyMemory<float> source, Memory<float> target, int planes, int inH, int inW, int outH, int outW, bool backward)
    {
        int inPlane = inH * inW, outPlane = outH * outW;
        int sourcePlane = backward ? outPlane : inPlane, targetPlane = backward ? inPlane : outPlane;
        int window = (inH / outH + 1) * (inW / outW + 1);
        Parallelism.For(planes, (start, end) =>
        {
            for (int p = start; p < end; p++)
            {
                var s = source.Span.Slice(p * sourcePlane, sourcePlane);
                var t = target.Span.Slice(p * targetPlane, targetPlane);
                for (int oh = 0; oh < outH; oh++)
                {
                    int hs = AdaptiveStart(oh, inH, outH), he = AdaptiveEnd(oh, inH, outH);
                    for (int ow = 0; ow < outW; ow++)
                    {
                        int ws = AdaptiveStart(ow, inW, outW), we = AdaptiveEnd(ow, inW, outW);
                        int count = (he - hs) * (we - ws), o = oh * outW + ow;
                        if (backward) SpreadWindow(s[o] / count, t, inW, hs, he, ws, we);
                        else t[o] = SumWindow(s, inW, hs, he, ws, we) / count;
                    }
                }
            }
        }, PlanesPerChunk(outPlane, window));
    }

    private static int AdaptiveStart(int i, int size, int outSize) => (int)((long)i * size / outSize);

    private static int AdaptiveEnd(int i, int size, int outSize) => (int)(((long)(i + 1) * size + outSize - 1) / outSize);

    private static float SumWindow(ReadOnlySpan<float> plane, int width, int hs, int he, int ws, int we)
    {
        float sum = 0f;
        for (int ih = hs; ih < he; ih++)
            for (int iw = ws; iw < we; iw++) sum += plane[ih * width + iw];
        return sum;
    }

    private static void SpreadWindow(float value, Span<float> plane, int width, int hs, int he, int ws, int we)
    {
        for (int ih = hs; ih < he; ih++)
            for (int iw = ws; iw < we; iw++) plane[ih * width + iw] += value;
    }
}
