using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// Depthwise convolution forward (channel multiplier 1) on maps with rows of 4 to 16 outputs (8 at stride 2), several
/// output rows to a vector and eight planes at once (<see cref="PackedRows{TTaps}"/>): MobileNet's 16×16 to 4×4 stages.
/// Sums start from the bias and add taps in row-major order, zeros in the padding; each output is clamped to [low, high]
/// as it is stored (a fused ReLU or ReLU6). MobileNetV2-style at batch 32 on two threads, against 16 channels at a time
/// through transposes (<see cref="BlockedDepthwise"/>): 16×16 → 8×8 at stride 2 106 → 44 µs (ONNX Runtime 34), 8×8 at
/// stride 1 70 → 31, 8×8 → 4×4 41 → 22; against the row kernel, 16×16 at stride 1 (8 channels) 25 → 20 µs, 14×14 (16
/// channels) 60 → 33. It also beats the small-plane kernel on 4×4 maps (19.4 → 10.5 µs; 2.5 → 0.8 at batch 1), not on
/// 2×2 (4.8 against 19); rows under 4 stay with the small-plane and channel-blocked kernels (2×2 → 1×1: 37 µs there,
/// 47 here). AVX-512 only.
/// </summary>
internal static unsafe class PackedRowsDepthwise
{
    /// <summary>Whether <paramref name="g"/> runs here: depthwise, multiplier 1, and a window <see cref="PackedRows{TTaps}"/> takes.</summary>
    public static bool Supports(ConvGeometry g) =>
        DirectConv.IsDepthwise(g) && g.OutChannels == g.InChannels && RowWindow.Of(g).Packs(g.StrideHeight);

    public static void Forward(ConvGeometry g, float[] x, float[] weight, float[]? bias, float[] y, float low, float high)
    {
        fixed (float* xs = x, ws = weight, ys = y)
            PackedRows<MultiplyAdd>.Run(RowWindow.Of(g), g.Batch * g.OutChannels, g.OutChannels, xs, ys, ws, bias, 0f, low, high);
    }

    /// <summary>Sums from the bias, each tap's inputs times the plane's weight for it; zeros in the padding (an im2col product's).</summary>
    private readonly struct MultiplyAdd : IRowTaps
    {
        public static Vector512<float> Outside => Vector512<float>.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Combine(Vector512<float> sum, Vector512<float> tap, float* weights, int t) =>
            Avx512F.FusedMultiplyAdd(tap, Vector512.Create(weights[t]), sum);
    }
}
