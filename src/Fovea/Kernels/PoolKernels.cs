using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
        if (argmax.IsEmpty && PackedRowsMaxPool.Supports(g))
        {
            PackedRowsMaxPool.Forward(x, y, g);
            return;
        }
        if (argmax.IsEmpty && SmallPlaneMaxPool.Supports(g))
        {
            SmallPlaneMaxPool.Forward(x, y, g);
            return;
        }
        int inPlane = g.InH * g.InW, outPlane = g.OutH * g.OutW;
        bool separable = argmax.IsEmpty && SeparableMaxPool.Supports(g);
        Parallelism.For(g.Planes, (start, end) =>
        {
            float[]? rows = separable ? TensorPool.Rent(SeparableMaxPool.ScratchLength(g)) : null;
            for (int p = start; p < end; p++)
            {
                if (rows is not null)
                {
                    SeparableMaxPool.Plane(x.Span.Slice(p * inPlane, inPlane), y.Span.Slice(p * outPlane, outPlane), g, rows.AsSpan(0, SeparableMaxPool.ScratchLength(g)));
                    continue;
                }
                var winners = argmax.IsEmpty ? Span<int>.Empty : argmax.Span.Slice(p * outPlane, outPlane);
                MaxPlane(x.Span.Slice(p * inPlane, inPlane), y.Span.Slice(p * outPlane, outPlane), winners, g);
            }
            if (rows is not null) TensorPool.Return(rows);
        }, PlanesPerChunk(outPlane, g.KernelH * g.KernelW));
    }

    private static void MaxPlane(ReadOnlySpan<float> x, Span<float> y, Span<int> argmax, PoolGeometry g)
    {
        if (g.KernelH == 2 && g.KernelW == 2 && g.StrideH == 2 && g.StrideW == 2 && IsDense(g))
        {
            MaxPlane2x2(x, y, argmax, g);
            return;
        }
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

    /// <summary>Every window lies wholly inside the plane (no padding, no dilation, no partial last window): nothing to clip.</summary>
    private static bool IsDense(PoolGeometry g) =>
        g.PadH == 0 && g.PadW == 0 && g.DilationH == 1 && g.DilationW == 1
        && (g.OutH - 1) * g.StrideH + g.KernelH <= g.InH && (g.OutW - 1) * g.StrideW + g.KernelW <= g.InW;

    /// <summary>
    /// The 2×2, stride-2 pooling of most CNNs, without the general loop's clipping. Same rule as
    /// <see cref="MaxPlane"/>: taps in row-major order, a tap wins when greater or NaN. With AVX-512 an
    /// output row is done 16 outputs at a time (masked at the row's end, since CNN rows are often shorter
    /// than 16); the selects are branch-free because which tap wins is data, and mispredicts cost more than the work.
    /// </summary>
    private static unsafe void MaxPlane2x2(ReadOnlySpan<float> x, Span<float> y, Span<int> argmax, PoolGeometry g)
    {
        int inW = g.InW, outW = g.OutW;
        bool record = !argmax.IsEmpty;
        fixed (float* px = x, py = y)
        fixed (int* pa = argmax)
        {
            for (int oh = 0; oh < g.OutH; oh++)
            {
                float* top = px + 2 * oh * inW;
                int first = oh * outW;
                if (Avx512F.IsSupported)
                {
                    MaxRow2x2Avx512(top, inW, py + first, record ? pa + first : null, 2 * oh * inW, outW);
                    continue;
                }
                for (int ow = 0; ow < outW; ow++)
                {
                    float* t = top + 2 * ow;
                    float best = t[0];
                    int at = 0;
                    if (t[1] > best || float.IsNaN(t[1])) { best = t[1]; at = 1; }
                    if (t[inW] > best || float.IsNaN(t[inW])) { best = t[inW]; at = inW; }
                    if (t[inW + 1] > best || float.IsNaN(t[inW + 1])) { best = t[inW + 1]; at = inW + 1; }
                    py[first + ow] = best;
                    if (record) pa[first + ow] = 2 * oh * inW + 2 * ow + at;
                }
            }
        }
    }

    /// <summary>One output row of a 2×2 stride-2 max pool: <paramref name="top"/> is its first input row; winners (if wanted) are in-plane indices from <paramref name="topIndex"/>.</summary>
    private static unsafe void MaxRow2x2Avx512(float* top, int inW, float* y, int* winners, int topIndex, int outW)
    {
        var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var even = lanes * 2;
        var odd = even + Vector512<int>.One;
        float* bottom = top + inW;
        for (int ow = 0; ow < outW; ow += 16)
        {
            int outputs = Math.Min(16, outW - ow), columns = 2 * outputs;
            var low = Vector512.LessThan(lanes, Vector512.Create(columns)).AsSingle();
            var high = Vector512.LessThan(lanes, Vector512.Create(columns - 16)).AsSingle();
            var store = Vector512.LessThan(lanes, Vector512.Create(outputs));
            float* t = top + 2 * ow, b = bottom + 2 * ow;
            Vector512<float> t0 = Avx512F.MaskLoad(t, low, Vector512<float>.Zero), t1 = Avx512F.MaskLoad(t + 16, high, Vector512<float>.Zero);
            Vector512<float> b0 = Avx512F.MaskLoad(b, low, Vector512<float>.Zero), b1 = Avx512F.MaskLoad(b + 16, high, Vector512<float>.Zero);
            var best = Avx512F.PermuteVar16x32x2(t0, even, t1);
            var at = Vector512<int>.Zero;
            Take(ref best, ref at, Avx512F.PermuteVar16x32x2(t0, odd, t1), 1);
            Take(ref best, ref at, Avx512F.PermuteVar16x32x2(b0, even, b1), inW);
            Take(ref best, ref at, Avx512F.PermuteVar16x32x2(b0, odd, b1), inW + 1);
            Avx512F.MaskStore(y + ow, store.AsSingle(), best);
            if (winners != null) Avx512F.MaskStore(winners + ow, store, at + even + Vector512.Create(topIndex + 2 * ow));
        }

        static void Take(ref Vector512<float> best, ref Vector512<int> at, Vector512<float> tap, int offset)
        {
            var wins = Vector512.GreaterThan(tap, best) | ~Vector512.Equals(tap, tap);
            best = Vector512.ConditionalSelect(wins, tap, best);
            at = Vector512.ConditionalSelect(wins.AsInt32(), Vector512.Create(offset), at);
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

    /// <summary>
    /// dx[argmax] += dy: each output's gradient goes to the element that won its window. With <paramref name="clearFirst"/> dx holds garbage (a fresh gradient) and each plane is cleared
    /// just before its scatter, while it is in cache, instead of the whole gradient zero-filled beforehand and read
    /// back from memory (one pass over dx fewer: a 6 MB gradient took 0.9 ms).
    /// </summary>
    public static void MaxBackward(ReadOnlyMemory<float> dy, Memory<float> dx, ReadOnlyMemory<int> argmax, PoolGeometry g, bool clearFirst = false)
    {
        int inPlane = g.InH * g.InW, outPlane = g.OutH * g.OutW;
        Parallelism.For(g.Planes, (start, end) =>
        {
            for (int p = start; p < end; p++)
            {
                var gy = dy.Span.Slice(p * outPlane, outPlane);
                var winners = argmax.Span.Slice(p * outPlane, outPlane);
                var gx = dx.Span.Slice(p * inPlane, inPlane);
                if (clearFirst) gx.Clear();
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
    public static void AdaptiveAvgForward(ReadOnlyMemory<float> x, Memory<float> y, int planes, int inH, int inW, int outH, int outW)
    {
        // Windows of one element (a global pool of 1×1 maps, late in small-image networks): x / 1 is x, so copy.
        if (inH == outH && inW == outW) x.Span[..(planes * inH * inW)].CopyTo(y.Span);
        else if (outH == 1 && outW == 1) GlobalPlanes(x, y, planes, inH * inW);
        else AdaptivePlanes(x, y, planes, inH, inW, outH, outW, backward: false);
    }

    /// <summary>
    /// A global average pool: each plane's sum in order (as the adaptive window's, row-major) over its length, without
    /// the per-window bookkeeping that took SqueezeNet-style's [32, 10, 2, 2] pool 8 µs.
    /// </summary>
    private static void GlobalPlanes(ReadOnlyMemory<float> x, Memory<float> y, int planes, int plane)
    {
        Parallelism.For(planes, (start, end) =>
        {
            var source = x.Span;
            var target = y.Span;
            for (int p = start; p < end; p++)
            {
                float sum = 0f;
                foreach (float v in source.Slice(p * plane, plane)) sum += v;
                target[p] = sum / plane;
            }
        }, PlanesPerChunk(1, plane));
    }

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
