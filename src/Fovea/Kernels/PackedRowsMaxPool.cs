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
        using var pinnedX = x.Pin();
        using var pinnedY = y.Pin();
        PackedRows<Winner>.Run(RowWindow.Of(g), g.Planes, 1, (float*)pinnedX.Pointer, (float*)pinnedY.Pointer, null, null, float.NegativeInfinity,
            float.NegativeInfinity, float.PositiveInfinity);
    }

    /// <summary>The tap where it is greater than the result so far, or NaN; −∞ outside the input.</summary>
    private readonly struct Winner : IRowTaps
    {
        public static Vector512<float> Outside => Vector512.Create(float.NegativeInfinity);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Combine(Vector512<float> sum, Vector512<float> tap, float* weights, int t) => SeparableMaxPool.Winner(sum, tap);
    }
}
