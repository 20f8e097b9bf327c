using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// What an inference convolution does to its result on the way out of the wide layout, after the bias: an
/// evaluation-mode batch norm (<paramref name="Norm"/>), a residual added (<paramref name="Residual"/>, a ResNet
/// block's shortcut, the output's shape; only <see cref="ChannelVectorConv"/> takes it), ReLU, a clip to [Low, High]
/// (<paramref name="Clip"/>, an imported ReLU6: max with Low, then min with High, as the separate op), then a 2×2
/// stride-2 max pool (only after ReLU, without a clip or a residual).
/// Fused, the full-size activation is never written and read back by separate passes (in a small CNN those
/// passes cost as much as the conv). Each value goes through the same float operations as the separate ops
/// (conv + bias, then (v − mean)·scale + shift, then max(v, 0); max pooling commutes with ReLU), so the fused
/// result is bitwise the one of conv → BatchNorm → ReLU → MaxPool computed apart. <paramref name="MergedBranches"/> says
/// the weights are two branches' merged into one conv, with zero taps for whole blocks of output channels (an imported
/// Fire module's 1×1 and 3×3 expands, see InferenceRewrite): the conv then runs on <see cref="ChannelVectorConv"/>, which
/// skips those taps, wherever that kernel can run. <paramref name="Pool"/> is a max pool after the ReLU other than the 2×2
/// one (an imported SqueezeNet's 3×3 stride-2 pools): only <see cref="ChannelVectorConv"/> takes it.
/// </summary>
internal readonly record struct ConvEpilogue(bool Relu, bool MaxPool2x2, BatchNormAffine? Norm = null, (float Low, float High)? Clip = null,
    Tensor? Residual = null, bool MergedBranches = false, MaxPoolWindow? Pool = null)
{
    public bool IsNone => !Relu && !MaxPool2x2 && Norm is null && Clip is null && Residual is null && Pool is null;

    /// <summary>
    /// The epilogue as bounds each output is clamped to, where it is only that (a ReLU, or a clip): what the direct
    /// kernels fuse. Null when there is a batch norm, a residual, a pool, both a ReLU and a clip, or nothing.
    /// </summary>
    public (float Low, float High)? Bounds =>
        Norm is not null || Residual is not null || MaxPool2x2 || Pool is not null || Relu == Clip.HasValue ? null : Clip ?? (0f, float.PositiveInfinity);

    /// <summary>Floats the epilogue writes per channel.</summary>
    public int OutputPlane(int outHeight, int outWidth) => MaxPool2x2 ? outHeight / 2 * (outWidth / 2) : outHeight * outWidth;

    /// <summary>The map the epilogue writes from a conv output of <paramref name="shape"/> ([N, C, H, W]): pooled by either pool, else as it is.</summary>
    public (int Height, int Width) OutputSize(ReadOnlySpan<int> shape) =>
        Pool?.Over(shape) is { } windows ? (windows.OutH, windows.OutW) : MaxPool2x2 ? (shape[2] / 2, shape[3] / 2) : (shape[2], shape[3]);

    /// <summary>
    /// Output rows (<paramref name="outHeight"/> × <paramref name="outWidth"/>, <paramref name="srcStride"/> apart in
    /// <paramref name="src"/>) of output channel <paramref name="channel"/> → <paramref name="dst"/>, densely, or
    /// pooled into ⌊outHeight/2⌋ × ⌊outWidth/2⌋. <paramref name="bias"/> is empty for a conv without one. NaN propagates.
    /// </summary>
    public unsafe void Apply(float* src, int srcStride, int outHeight, int outWidth, float* dst, int channel, ReadOnlySpan<float> bias)
    {
        float? channelBias = bias.IsEmpty ? null : bias[channel];
        // The pool applies ReLU once to each window's maximum (ReLU is monotone, and max(−0, +0) = +0 either way).
        if (MaxPool2x2) PoolRows(src, srcStride, outHeight / 2, outWidth / 2, dst, new ChannelMap(channelBias, Norm, channel, relu: false, clip: null));
        else MapRows(src, srcStride, outHeight, outWidth, dst, new ChannelMap(channelBias, Norm, channel, Relu, Clip));
    }

    // Hot loops run per channel of every image: compiled optimised at once, not after tiering (first inferences were 3× slower).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MapRows(float* src, int srcStride, int rows, int width, float* dst, ChannelMap map)
    {
        if (Avx512F.IsSupported)
        {
            var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            var tail = Vector512.LessThan(lanes, Vector512.Create(width % 16)).AsSingle();
            int full = width / 16 * 16;
            for (int r = 0; r < rows; r++, src += srcStride, dst += width)
            {
                for (int i = 0; i < full; i += 16) Vector512.Store(map.Apply(Vector512.Load(src + i)), dst + i);
                if (full < width) Avx512F.MaskStore(dst + full, tail, map.Apply(Avx512F.MaskLoad(src + full, tail, Vector512<float>.Zero)));
            }
            return;
        }
        int w = Vector<float>.Count;
        for (int r = 0; r < rows; r++, src += srcStride, dst += width)
        {
            int i = 0;
            for (; i <= width - w; i += w) Vector.Store(map.Apply(Vector.Load(src + i)), dst + i);
            for (; i < width; i++) dst[i] = map.Apply(src[i]);
        }
    }

    /// <summary>2×2 windows of output rows 2i, 2i + 1: each value mapped (bias, batch norm), the rows' maximum, even against odd columns, then ReLU.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PoolRows(float* src, int srcStride, int pooledRows, int pooledWidth, float* dst, ChannelMap map)
    {
        if (Avx512F.IsSupported)
        {
            var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            var even = lanes * 2;
            var odd = even + Vector512<int>.One;
            for (int r = 0; r < pooledRows; r++, dst += pooledWidth)
            {
                float* top = src + 2 * r * srcStride, bottom = top + srcStride;
                for (int j = 0; j < pooledWidth; j += 16)
                {
                    int outputs = Math.Min(16, pooledWidth - j), columns = 2 * outputs;
                    var low = Vector512.LessThan(lanes, Vector512.Create(columns)).AsSingle();
                    var high = Vector512.LessThan(lanes, Vector512.Create(columns - 16)).AsSingle();
                    float* t = top + 2 * j, b = bottom + 2 * j;
                    var m0 = Vector512.Max(map.Apply(Avx512F.MaskLoad(t, low, Vector512<float>.Zero)), map.Apply(Avx512F.MaskLoad(b, low, Vector512<float>.Zero)));
                    var m1 = Vector512.Max(map.Apply(Avx512F.MaskLoad(t + 16, high, Vector512<float>.Zero)), map.Apply(Avx512F.MaskLoad(b + 16, high, Vector512<float>.Zero)));
                    var pooled = Vector512.Max(Vector512.Max(Avx512F.PermuteVar16x32x2(m0, even, m1), Avx512F.PermuteVar16x32x2(m0, odd, m1)), Vector512<float>.Zero);
                    Avx512F.MaskStore(dst + j, Vector512.LessThan(lanes, Vector512.Create(outputs)).AsSingle(), pooled);
                }
            }
            return;
        }
        for (int r = 0; r < pooledRows; r++, dst += pooledWidth)
        {
            float* top = src + 2 * r * srcStride, bottom = top + srcStride;
            for (int j = 0; j < pooledWidth; j++)
            {
                dst[j] = MathF.Max(MathF.Max(MathF.Max(map.Apply(top[2 * j]), map.Apply(top[2 * j + 1])),
                    MathF.Max(map.Apply(bottom[2 * j]), map.Apply(bottom[2 * j + 1]))), 0f);
            }
        }
    }

    /// <summary>One channel's value map: + bias (when the conv has one), the batch norm, ReLU, the clip — the separate ops' float operations in their order.</summary>
    private readonly struct ChannelMap
    {
        private readonly bool _hasBias, _hasNorm, _relu, _clip;
        private readonly float _bias, _mean, _scale, _shift, _low, _high;

        public ChannelMap(float? bias, BatchNormAffine? norm, int channel, bool relu, (float Low, float High)? clip)
        {
            _clip = clip.HasValue;
            (_low, _high) = clip ?? (0f, 0f);
            _hasBias = bias.HasValue;
            _bias = bias ?? 0f;
            _hasNorm = norm is not null;
            if (norm is not null) (_mean, _scale, _shift) = (norm.Mean[channel], norm.Scale[channel], norm.Shift[channel]);
            _relu = relu;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Apply(Vector512<float> v)
        {
            if (_hasBias) v += Vector512.Create(_bias);
            if (_hasNorm) v = (v - Vector512.Create(_mean)) * Vector512.Create(_scale) + Vector512.Create(_shift);
            if (_relu) v = Vector512.Max(v, Vector512<float>.Zero);
            return _clip ? V512.Clamp(v, _low, _high) : v;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<float> Apply(Vector<float> v)
        {
            if (_hasBias) v += new Vector<float>(_bias);
            if (_hasNorm) v = (v - new Vector<float>(_mean)) * new Vector<float>(_scale) + new Vector<float>(_shift);
            if (_relu) v = Vector.Max(v, Vector<float>.Zero);
            return _clip ? Vector.Min(Vector.Max(v, new Vector<float>(_low)), new Vector<float>(_high)) : v;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Apply(float v)
        {
            if (_hasBias) v += _bias;
            if (_hasNorm) v = (v - _mean) * _scale + _shift;
            if (_relu) v = MathF.Max(v, 0f);
            return _clip ? MathF.Min(MathF.Max(v, _low), _high) : v;
        }
    }
}

/// <summary>
/// An evaluation-mode batch norm as a per-channel map (v − Mean[c])·Scale[c] + Shift[c], with Scale = γ/√(var + ε)
/// and Shift = β computed as <see cref="F.BatchNorm"/> computes them.
/// </summary>
internal sealed record BatchNormAffine(float[] Mean, float[] Scale, float[] Shift);

/// <summary>
/// A max pool's window over a conv's output, dilation 1: what <see cref="ConvEpilogue.Pool"/> fuses. Padding may be
/// heavier at the end (ONNX's pads, as exporters before opset 10 wrote ceil mode), then without ceil mode; padding never
/// wins a window.
/// </summary>
internal readonly record struct MaxPoolWindow((int H, int W) Kernel, (int H, int W) Stride, (int H, int W) PadBegin, (int H, int W) PadEnd, bool CeilMode)
{
    public bool Symmetric => PadBegin == PadEnd;

    /// <summary>The pool over an output of <paramref name="shape"/> ([N, C, H, W]): as the separate op sizes it where the padding is symmetric, else floor((H + pads − kernel) / stride) + 1.</summary>
    public PoolGeometry Over(ReadOnlySpan<int> shape)
    {
        if (Symmetric) return PoolGeometry.Create("MaxPool2d", shape, Kernel, Stride, PadBegin, (1, 1), CeilMode);
        if (CeilMode) throw new ArgumentException("MaxPool2d: ceil mode with padding heavier at the end is not fused.");
        int outH = (shape[2] + PadBegin.H + PadEnd.H - Kernel.H) / Stride.H + 1, outW = (shape[3] + PadBegin.W + PadEnd.W - Kernel.W) / Stride.W + 1;
        if (outH < 1 || outW < 1 || PadBegin.H >= Kernel.H || PadBegin.W >= Kernel.W || PadEnd.H >= Kernel.H || PadEnd.W >= Kernel.W)
            throw new ArgumentException($"MaxPool2d: a {Kernel.H}×{Kernel.W} window with padding ({PadBegin.H}, {PadBegin.W}, {PadEnd.H}, {PadEnd.W}) does not fit {TensorShape.Format(shape)}");
        return new PoolGeometry(shape[0] * shape[1], shape[2], shape[3], Kernel.H, Kernel.W, Stride.H, Stride.W, PadBegin.H, PadBegin.W, 1, 1, false, true, outH, outW);
    }
}
