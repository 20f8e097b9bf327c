using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Fovea.Kernels;

/// <summary>
/// Max pooling (inference, no argmax) of planes with rows of 4 to 16 outputs (8 at stride 2), several output rows to a
/// vector and eight planes at once (<see cref="PackedRows{TTaps}"/>): ResNet's 16×16 → 8×8 and SqueezeNet's 11×11 →
/// 5×5 pools. Each output is the running winner over its window's taps in row-major order from −∞ (a later tap wins
/// when greater, or NaN: the direct loop's rule); lanes in the padding hold −∞ and never win. Per plane, the separable
/// kernel spent its time setting up passes over rows of 16 or 11, and the small-plane one on transposes: at batch 32,
/// 32×16 planes of 16×16 (3×3, stride 2, padding 1) took 31 µs there.
/// </summary>
internal static unsafe class PackedRowsMaxPool
{
    public static bool Supports(PoolGeometry g) => RowWindow.Of(g).Packs(g.StrideH);

    public static void Forward(ReadOnlyMemory<float> x, Memory<float> y, PoolGeometry g)
    {
        const int planesAtOnce = PackedRows<Winner>.Planes;
        int chunks = (g.Planes + planesAtOnce - 1) / planesAtOnce, inPlane = g.InH * g.InW, outPlane = g.OutH * g.OutW;
        var window = RowWindow.Of(g);
        using var pinnedX = x.Pin();
        using var pinnedY = y.Pin();
        nint xAddress = (nint)pinnedX.Pointer, yAddress = (nint)pinnedY.Pointer;
        Parallelism.For(chunks, (start, end) =>
        {
            var run = new PackedRows<Winner>(window, float.NegativeInfinity, float.PositiveInfinity);
            float* xs = (float*)xAddress, ys = (float*)yAddress;
            var inputs = stackalloc float*[planesAtOnce];
            var outputs = stackalloc float*[planesAtOnce];
            var none = stackalloc float*[planesAtOnce];
            float* starts = stackalloc float[planesAtOnce];
            for (int i = 0; i < planesAtOnce; i++)
            {
                none[i] = null;
                starts[i] = float.NegativeInfinity;
            }
            for (int chunk = start; chunk < end; chunk++)
            {
                // Past the last plane the last one again (the same values written twice).
                for (int i = 0; i < planesAtOnce; i++)
                {
                    int plane = Math.Min(chunk * planesAtOnce + i, g.Planes - 1);
                    inputs[i] = xs + (long)plane * inPlane;
                    outputs[i] = ys + (long)plane * outPlane;
                }
                run.Eight(inputs, none, starts, outputs);
            }
        }, DirectConv.ItemsPerChunk((long)outPlane * g.KernelH * g.KernelW * planesAtOnce));
    }

    /// <summary>The tap where it is greater than the result so far, or NaN; −∞ outside the input.</summary>
    private readonly struct Winner : IRowTaps
    {
        public static Vector512<float> Outside => Vector512.Create(float.NegativeInfinity);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Combine(Vector512<float> sum, Vector512<float> tap, float* weights, int t) => SeparableMaxPool.Winner(sum, tap);
    }
}
