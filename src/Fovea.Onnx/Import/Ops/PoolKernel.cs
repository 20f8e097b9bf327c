using System.Numerics;

namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// N-d max and average pooling over the windows of a <see cref="PoolWindows"/>, for what Fovea's 2-d pools
/// do not cover: 1-d and 3-d inputs, asymmetric or wide padding, dilated averages, integer inputs and
/// MaxPool's Indices output. Inference only. Planes (N·C) are split over threads; each output is reduced by
/// one thread in the window's row-major order, so results do not depend on the thread count.
/// </summary>
internal static class PoolKernel
{
    /// <summary>Window taps per parallel chunk, below which splitting costs more than it saves.</summary>
    private const long Grain = 1 << 15;

    /// <summary>
    /// Max of each window into <paramref name="y"/>; <paramref name="indices"/>, when given, receives the flat
    /// index into x of each maximum (the first one in row-major window order, as ONNX Runtime), with the plane
    /// part in column-major order when <paramref name="columnMajor"/> (storage_order 1), and -1 for a window
    /// that holds no input element. NaNs never win, and a window of padding only gives T's lowest value.
    /// </summary>
    public static unsafe void Max<T>(ReadOnlySpan<T> x, Span<T> y, Span<long> indices, bool columnMajor, PoolWindows w)
        where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        Check(x.Length, y.Length, indices.Length, w);
        fixed (T* xs = x, ys = y)
        fixed (long* ids = indices)
            Walk(new PinnedSpan<T>(xs, x.Length), w, new MaxReducer<T>(new(ys, y.Length), new(ids, indices.Length), columnMajor ? w : null));
    }

    /// <summary>
    /// Mean of each window into <paramref name="y"/>: over its in-bounds elements, or over its cells inside input
    /// + padding when <paramref name="countIncludePad"/>; 0 for a window of padding only.
    /// </summary>
    public static unsafe void Average(ReadOnlySpan<float> x, Span<float> y, bool countIncludePad, PoolWindows w)
    {
        Check(x.Length, y.Length, 0, w);
        fixed (float* xs = x, ys = y)
            Walk(new PinnedSpan<float>(xs, x.Length), w, new MeanReducer(new(ys, y.Length), countIncludePad));
    }

    private static void Check(int x, int y, int indices, PoolWindows w)
    {
        if (x != w.Planes * w.InPlane || y != w.Planes * w.OutPlane || indices is not 0 && indices != y)
            throw new ArgumentException($"pool kernel: {x} inputs, {y} outputs and {indices} indices do not fit {w.Planes} planes of {w.InPlane} → {w.OutPlane}");
    }

    private interface IReducer<T>
    {
        void Begin();

        void Take(T value, int offset);

        /// <summary>Stores the result of output <paramref name="output"/> (flat over all planes) of the plane starting at <paramref name="planeStart"/> in x.</summary>
        void End(int output, int planeStart, int taps, int padded);
    }

    private static void Walk<T, TReducer>(PinnedSpan<T> x, PoolWindows w, TReducer prototype) where T : unmanaged where TReducer : struct, IReducer<T>
    {
        long work = Math.Max(1L, (long)w.OutPlane * w.WindowSize);
        Parallelism.For(w.Planes, (p0, p1) =>
        {
            var reducer = prototype;
            var output = new int[w.Rank];
            var tap = new int[w.Rank];
            for (int p = p0; p < p1; p++)
            {
                ReadOnlySpan<T> plane = x.Slice(p * w.InPlane, w.InPlane);
                Array.Clear(output);
                for (int o = 0; o < w.OutPlane; o++)
                {
                    int offset = 0, taps = 1, padded = 1;
                    for (int a = 0; a < w.Rank; a++)
                    {
                        offset += w.FirstOffset[a][output[a]];
                        taps *= w.Taps[a][output[a]];
                        padded *= w.Padded[a][output[a]];
                    }
                    reducer.Begin();
                    if (taps > 0) Window(plane, offset, output, tap, w, ref reducer);
                    reducer.End(p * w.OutPlane + o, p * w.InPlane, taps, padded);
                    for (int a = w.Rank - 1; a >= 0 && ++output[a] == w.OutDims[a]; a--) output[a] = 0;
                }
            }
        }, (int)Math.Max(1, Grain / work));
    }

    /// <summary>Feeds one window's in-bounds taps to the reducer: rows along the last axis, an odometer over the others.</summary>
    private static void Window<T, TReducer>(ReadOnlySpan<T> plane, int offset, int[] output, int[] tap, PoolWindows w, ref TReducer reducer)
        where TReducer : struct, IReducer<T>
    {
        int last = w.Rank - 1, rowTaps = w.Taps[last][output[last]], rowStep = w.TapStep[last];
        Array.Clear(tap);
        while (true)
        {
            for (int k = 0, at = offset; k < rowTaps; k++, at += rowStep) reducer.Take(plane[at], at);
            int a = last - 1;
            for (; a >= 0; a--)
            {
                if (++tap[a] < w.Taps[a][output[a]])
                {
                    offset += w.TapStep[a];
                    break;
                }
                offset -= (tap[a] - 1) * w.TapStep[a];
                tap[a] = 0;
            }
            if (a < 0) return;
        }
    }

    private struct MaxReducer<T>(PinnedSpan<T> y, PinnedSpan<long> indices, PoolWindows? columnMajor) : IReducer<T>
        where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        private T _best = T.MinValue;
        private int _at;

        public void Begin()
        {
            _best = T.MinValue;
            _at = -1;
        }

        public void Take(T value, int offset)
        {
            if (value > _best)
            {
                _best = value;
                _at = offset;
            }
        }

        public readonly void End(int output, int planeStart, int taps, int padded)
        {
            y[output] = _best;
            if (indices.Length > 0) indices[output] = _at < 0 ? -1 : planeStart + (columnMajor?.ColumnMajor(_at) ?? _at);
        }
    }

    private struct MeanReducer(PinnedSpan<float> y, bool countIncludePad) : IReducer<float>
    {
        private float _sum;

        public void Begin() => _sum = 0;

        public void Take(float value, int offset) => _sum += value;

        public readonly void End(int output, int planeStart, int taps, int padded) =>
            y[output] = taps == 0 ? 0 : _sum / (countIncludePad ? padded : taps);
    }
}
