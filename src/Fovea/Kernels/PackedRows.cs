using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// The window of a depthwise convolution or a pooling over one plane, as <see cref="PackedRows{TTaps}"/> walks it.
/// </summary>
internal readonly record struct RowWindow(int InHeight, int InWidth, int OutHeight, int OutWidth, int KernelHeight, int KernelWidth,
    int StrideWidth, int PadTop, int PadLeft, int DilationHeight, int DilationWidth)
{
    public static RowWindow Of(ConvGeometry g) => new(g.InHeight, g.InWidth, g.OutHeight, g.OutWidth, g.KernelHeight, g.KernelWidth, g.StrideWidth,
        g.PadTop, g.PadLeft, g.DilationHeight, g.DilationWidth);

    public static RowWindow Of(PoolGeometry g) => new(g.InH, g.InW, g.OutH, g.OutW, g.KernelH, g.KernelW, g.StrideW, g.PadH, g.PadW, g.DilationH, g.DilationW);

    /// <summary>
    /// Whether <see cref="PackedRows{TTaps}"/> takes this window with strides (<paramref name="strideHeight"/>, StrideWidth):
    /// output rows of 4 to 16, and stride 1 with rows as wide as the input's, or stride 2 onto rows of at most 8 from input
    /// rows of at most 16.
    /// </summary>
    public bool Packs(int strideHeight) =>
        Avx512F.IsSupported && OutWidth is >= 4 and <= 16
        && (strideHeight == 1 && StrideWidth == 1 && InWidth == OutWidth || strideHeight == 2 && StrideWidth == 2 && InWidth <= 16 && OutWidth <= 8);
}

/// <summary>What a packed-rows pass does with each tap: the value of lanes outside the input, and how a tap joins the running result.</summary>
internal unsafe interface IRowTaps
{
    static abstract Vector512<float> Outside { get; }

    /// <summary>The running result with tap <paramref name="t"/>'s inputs joined (<paramref name="weights"/>: the plane's, if any).</summary>
    static abstract Vector512<float> Combine(Vector512<float> sum, Vector512<float> tap, float* weights, int t);
}

/// <summary>
/// Eight planes at a time, several output rows to a vector (maps with rows of at most 16 outputs: MobileNet's and
/// SqueezeNet's late stages). At stride 1 with rows as wide as the input's, the R = 16 / outW rows of a vector read, for
/// each tap, one run of input at the tap's offset (a masked load: lanes whose row or column falls in the padding read
/// nothing and hold <see cref="IRowTaps.Outside"/>). At stride 2 (input rows of up to 16), two output rows share a
/// vector: each kernel row loads the two input rows it reads, and each tap picks its columns from them with one
/// two-source permute. Eight independent results cover the latency of each tap's operation. Taps go in row-major
/// order from the start values; each result is clamped to [low, high] as it is stored. AVX-512 only.
/// </summary>
internal readonly unsafe struct PackedRows<TTaps>(RowWindow g, float low, float high) where TTaps : struct, IRowTaps
{
    private const int Planes = 8, Lanes = 16;

    /// <summary>
    /// Every plane of <paramref name="x"/> [planes, inH·inW] into <paramref name="y"/> [planes, outH·outW], eight at a
    /// time, split over threads. Plane p is channel p % <paramref name="channels"/>: its taps' weights start at
    /// <paramref name="weights"/> + channel·taps (null: no weights), and its result starts from
    /// <paramref name="starts"/>[channel] (null: from <paramref name="startValue"/>).
    /// </summary>
    public static void Run(RowWindow g, int planes, int channels, float* x, float* y, float* weights, float[]? starts, float startValue, float low, float high)
    {
        int taps = g.KernelHeight * g.KernelWidth, inPlane = g.InHeight * g.InWidth, outPlane = g.OutHeight * g.OutWidth;
        nint xAddress = (nint)x, yAddress = (nint)y, weightsAddress = (nint)weights;
        Parallelism.For((planes + Planes - 1) / Planes, (first, end) =>
        {
            var run = new PackedRows<TTaps>(g, low, high);
            float* xs = (float*)xAddress, ys = (float*)yAddress, ws = (float*)weightsAddress;
            var inputs = stackalloc float*[Planes];
            var planeWeights = stackalloc float*[Planes];
            var outputs = stackalloc float*[Planes];
            float* start = stackalloc float[Planes];
            for (int chunk = first; chunk < end; chunk++)
            {
                // Past the last plane the last one again (the same values written twice).
                for (int i = 0; i < Planes; i++)
                {
                    int plane = Math.Min(chunk * Planes + i, planes - 1), channel = plane % channels;
                    inputs[i] = xs + (long)plane * inPlane;
                    outputs[i] = ys + (long)plane * outPlane;
                    planeWeights[i] = ws == null ? null : ws + (long)channel * taps;
                    start[i] = starts is null ? startValue : starts[channel];
                }
                run.Eight(inputs, planeWeights, start, outputs);
            }
        }, DirectConv.ItemsPerChunk((long)outPlane * taps * Planes));
    }

    /// <summary>Eight planes: input i at <paramref name="x"/>[i], its weights at w[i], start value start[i], output at y[i].</summary>
    private void Eight(float** x, float** w, float* start, float** y)
    {
        if (g.StrideWidth == 1) StrideOne(x, w, start, y);
        else StrideTwo(x, w, start, y);
    }

    private static Vector512<float> InRange(Vector512<int> v, int low, int high) =>
        (Vector512.GreaterThanOrEqual(v, Vector512.Create(low)) & Vector512.LessThan(v, Vector512.Create(high))).AsSingle();

    /// <summary>Stride 1: lane j is output (r0 + j / outW, j % outW), and every tap reads input at one offset from r0·inW + j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void StrideOne(float** x, float** w, float* start, float** y)
    {
        int outW = g.OutWidth, rowsPer = Lanes / outW, used = rowsPer * outW;
        var lane = Vector512<int>.Indices;
        var row = lane / Vector512.Create(outW);
        var column = lane - row * Vector512.Create(outW);
        var usedLanes = Vector512.LessThan(lane, Vector512.Create(used));
        float* x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3], x4 = x[4], x5 = x[5], x6 = x[6], x7 = x[7];
        for (int r0 = 0; r0 < g.OutHeight; r0 += rowsPer)
        {
            var s0 = Vector512.Create(start[0]); var s1 = Vector512.Create(start[1]); var s2 = Vector512.Create(start[2]); var s3 = Vector512.Create(start[3]);
            var s4 = Vector512.Create(start[4]); var s5 = Vector512.Create(start[5]); var s6 = Vector512.Create(start[6]); var s7 = Vector512.Create(start[7]);
            for (int ki = 0; ki < g.KernelHeight; ki++)
            {
                int shift = r0 + ki * g.DilationHeight - g.PadTop;
                var rows = InRange(row, -shift, g.InHeight - shift).AsInt32() & usedLanes;
                for (int kj = 0; kj < g.KernelWidth; kj++)
                {
                    int offset = kj * g.DilationWidth - g.PadLeft, t = ki * g.KernelWidth + kj;
                    var mask = (rows & InRange(column, -offset, g.InWidth - offset).AsInt32()).AsSingle();
                    long at = (long)shift * g.InWidth + offset;
                    s0 = TTaps.Combine(s0, Avx512F.MaskLoad(x0 + at, mask, TTaps.Outside), w[0], t);
                    s1 = TTaps.Combine(s1, Avx512F.MaskLoad(x1 + at, mask, TTaps.Outside), w[1], t);
                    s2 = TTaps.Combine(s2, Avx512F.MaskLoad(x2 + at, mask, TTaps.Outside), w[2], t);
                    s3 = TTaps.Combine(s3, Avx512F.MaskLoad(x3 + at, mask, TTaps.Outside), w[3], t);
                    s4 = TTaps.Combine(s4, Avx512F.MaskLoad(x4 + at, mask, TTaps.Outside), w[4], t);
                    s5 = TTaps.Combine(s5, Avx512F.MaskLoad(x5 + at, mask, TTaps.Outside), w[5], t);
                    s6 = TTaps.Combine(s6, Avx512F.MaskLoad(x6 + at, mask, TTaps.Outside), w[6], t);
                    s7 = TTaps.Combine(s7, Avx512F.MaskLoad(x7 + at, mask, TTaps.Outside), w[7], t);
                }
            }
            Store(s0, s1, s2, s3, s4, s5, s6, s7, y, r0 * outW, Math.Min(used, (g.OutHeight - r0) * outW));
        }
    }

    /// <summary>
    /// Stride 2: lanes [0, outW) are output row r0 and [outW, 2·outW) row r0 + 1; each kernel row loads the two input
    /// rows they read, and lane j of a tap takes column 2·(j % outW) + offset of the first (j &lt; outW) or the second.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void StrideTwo(float** x, float** w, float* start, float** y)
    {
        int outW = g.OutWidth, used = 2 * outW;
        var lane = Vector512<int>.Indices;
        var second = Vector512.GreaterThanOrEqual(lane, Vector512.Create(outW));
        var column = lane - (second & Vector512.Create(outW));
        var usedLanes = Vector512.LessThan(lane, Vector512.Create(used));
        var rowMask = Vector512.LessThan(lane, Vector512.Create(g.InWidth)).AsSingle();
        float* x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3], x4 = x[4], x5 = x[5], x6 = x[6], x7 = x[7];
        for (int r0 = 0; r0 < g.OutHeight; r0 += 2)
        {
            var s0 = Vector512.Create(start[0]); var s1 = Vector512.Create(start[1]); var s2 = Vector512.Create(start[2]); var s3 = Vector512.Create(start[3]);
            var s4 = Vector512.Create(start[4]); var s5 = Vector512.Create(start[5]); var s6 = Vector512.Create(start[6]); var s7 = Vector512.Create(start[7]);
            for (int ki = 0; ki < g.KernelHeight; ki++)
            {
                int top = 2 * r0 + ki * g.DilationHeight - g.PadTop, bottom = top + 2;
                bool hasTop = top >= 0 && top < g.InHeight, hasBottom = r0 + 1 < g.OutHeight && bottom >= 0 && bottom < g.InHeight;
                // The rows' lanes whose input row exists (the other row's lanes read zeros).
                var rows = (second & Vector512.Create(hasBottom ? -1 : 0)) | (~second & Vector512.Create(hasTop ? -1 : 0));
                if (!hasTop && !hasBottom) continue;
                var a0 = Row(x0, top, hasTop, rowMask); var b0 = Row(x0, bottom, hasBottom, rowMask);
                var a1 = Row(x1, top, hasTop, rowMask); var b1 = Row(x1, bottom, hasBottom, rowMask);
                var a2 = Row(x2, top, hasTop, rowMask); var b2 = Row(x2, bottom, hasBottom, rowMask);
                var a3 = Row(x3, top, hasTop, rowMask); var b3 = Row(x3, bottom, hasBottom, rowMask);
                var a4 = Row(x4, top, hasTop, rowMask); var b4 = Row(x4, bottom, hasBottom, rowMask);
                var a5 = Row(x5, top, hasTop, rowMask); var b5 = Row(x5, bottom, hasBottom, rowMask);
                var a6 = Row(x6, top, hasTop, rowMask); var b6 = Row(x6, bottom, hasBottom, rowMask);
                var a7 = Row(x7, top, hasTop, rowMask); var b7 = Row(x7, bottom, hasBottom, rowMask);
                for (int kj = 0; kj < g.KernelWidth; kj++)
                {
                    int offset = kj * g.DilationWidth - g.PadLeft, t = ki * g.KernelWidth + kj;
                    var source = 2 * column + Vector512.Create(offset);
                    var mask = (rows & usedLanes & InRange(source, 0, g.InWidth).AsInt32()).AsSingle();
                    var index = (source & Vector512.Create(Lanes - 1)) | (second & Vector512.Create(Lanes));
                    s0 = TTaps.Combine(s0, Pick(a0, b0, index, mask), w[0], t);
                    s1 = TTaps.Combine(s1, Pick(a1, b1, index, mask), w[1], t);
                    s2 = TTaps.Combine(s2, Pick(a2, b2, index, mask), w[2], t);
                    s3 = TTaps.Combine(s3, Pick(a3, b3, index, mask), w[3], t);
                    s4 = TTaps.Combine(s4, Pick(a4, b4, index, mask), w[4], t);
                    s5 = TTaps.Combine(s5, Pick(a5, b5, index, mask), w[5], t);
                    s6 = TTaps.Combine(s6, Pick(a6, b6, index, mask), w[6], t);
                    s7 = TTaps.Combine(s7, Pick(a7, b7, index, mask), w[7], t);
                }
            }
            Store(s0, s1, s2, s3, s4, s5, s6, s7, y, r0 * outW, Math.Min(used, (g.OutHeight - r0) * outW));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector512<float> Row(float* plane, int row, bool exists, Vector512<float> rowMask) =>
        exists ? Avx512F.MaskLoad(plane + (long)row * g.InWidth, rowMask, TTaps.Outside) : TTaps.Outside;

    /// <summary>Lane j: the first row's lane index[j] (index below 16) or the second's, <see cref="IRowTaps.Outside"/> where the mask is clear.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pick(Vector512<float> first, Vector512<float> second, Vector512<int> index, Vector512<float> mask) =>
        Vector512.ConditionalSelect(mask, Avx512F.PermuteVar16x32x2(first, index, second), TTaps.Outside);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Store(Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3, Vector512<float> s4, Vector512<float> s5,
        Vector512<float> s6, Vector512<float> s7, float** y, int at, int count)
    {
        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();
        Avx512F.MaskStore(y[0] + at, mask, V512.Clamp(s0, low, high));
        Avx512F.MaskStore(y[1] + at, mask, V512.Clamp(s1, low, high));
        Avx512F.MaskStore(y[2] + at, mask, V512.Clamp(s2, low, high));
        Avx512F.MaskStore(y[3] + at, mask, V512.Clamp(s3, low, high));
        Avx512F.MaskStore(y[4] + at, mask, V512.Clamp(s4, low, high));
        Avx512F.MaskStore(y[5] + at, mask, V512.Clamp(s5, low, high));
        Avx512F.MaskStore(y[6] + at, mask, V512.Clamp(s6, low, high));
        Avx512F.MaskStore(y[7] + at, mask, V512.Clamp(s7, low, high));
    }
}
