using System.Runtime.Intrinsics;
using System.Numerics.Tensors;

namespace Fovea.Kernels;

/// <summary>
/// Direct convolution, for convolutions with too few multiply-adds per output for a GEMM: depthwise ones
/// (groups == in_channels, each input channel c feeding output channels c·m … c·m + m − 1, channel multiplier
/// m = O / C ≥ 1; forward and backward) and strided image stems (1–4 input channels, few outputs; forward only),
/// any kernel, stride, padding and dilation. A depthwise layer does 2·kH·kW flops per output: as one GEMM per
/// group it spent its time packing tiny matrices; a stem's GEMM has M = O ≤ 32 rows and per-image im2col.
/// Here each input plane is copied once into a zero-padded <see cref="PhasedPlane"/> in which every kernel tap
/// reads a contiguous run of inputs for consecutive output columns, whatever the stride, so output rows are
/// computed a vector at a time with all taps (of all the group's input channels) accumulated in registers.
/// The forward and input gradient are split over planes, so every float sum runs on one thread in a fixed order;
/// the parameter gradients run on a chunk of the batch, summed by the caller.
/// Forward and InputGradient take arrays rather than spans because they share planes out to <see cref="Parallelism"/> workers.
/// </summary>
internal static unsafe class DirectConv
{
    /// <summary>Multiply-adds below which a chunk of planes is not worth waking a thread for (batch-1 layers of a small CNN).</summary>
    private const int MinWorkPerChunk = 1 << 15;

    /// <summary>Items per chunk for <see cref="Parallelism.For"/> when each item costs <paramref name="work"/> multiply-adds.</summary>
    internal static int ItemsPerChunk(long work) => (int)Math.Max(1, MinWorkPerChunk / Math.Max(1, work));

    /// <summary>
    /// Multiply-adds of a whole conv below which it runs on the calling thread: split, each thread first pulls the input and
    /// weights the other core wrote or read last. SqueezeNet-style's squeeze convs at batch 1 (100–250 K multiply-adds)
    /// ran 1.2–3.8 µs slower on two threads than on one, ResNet-style's last stage (two blocks of 8–16 K) 1–1.4 µs. The
    /// GEMM's threshold (<see cref="Gemm"/>) is the same.
    /// </summary>
    internal const long MinForkMultiplyAdds = 1 << 18;

    /// <summary><see cref="ItemsPerChunk(long)"/>, or all <paramref name="items"/> in one chunk where together they cost under <see cref="MinForkMultiplyAdds"/>.</summary>
    internal static int ItemsPerChunk(long work, int items) => work * items < MinForkMultiplyAdds ? Math.Max(1, items) : ItemsPerChunk(work);

    /// <summary>Whether <paramref name="g"/> is depthwise (one input channel per group, more than one group): forward and backward run here.</summary>
    public static bool IsDepthwise(ConvGeometry g) => g.Groups > 1 && g.Groups == g.InChannels;

    /// <summary>
    /// Whether the forward of <paramref name="g"/> runs here: depthwise, or an ungrouped strided stem of 1–4 input
    /// channels and at most 32 outputs with rows of at least 8 (measured: 2.5–3× faster than per-image im2col for
    /// 3→8 and 3→16, 1.5× for 3→32, 0.8× for 3→64; 0.5–0.7× against the implicit GEMM at stride 1). Its backward
    /// stays with the GEMM paths.
    /// </summary>
    public static bool RunsForward(ConvGeometry g) => IsDepthwise(g)
        || g.Groups == 1 && g.InChannels <= 4 && g.OutChannels <= 32 && g.OutWidth >= 8 && !ImplicitConv.Supports(g);

    /// <summary>
    /// y [N, O, outH, outW] = conv of x [N, C, H, W] with weight [O, C / groups, kH, kW] (+ bias [O]), each group's
    /// input channels padded side by side so that an output sums all of them as one longer list of taps; each output
    /// is clamped to [<paramref name="low"/>, <paramref name="high"/>] as it is stored (a fused ReLU or ReLU6; the
    /// default bounds change nothing).
    /// </summary>
    public static void Forward(ConvGeometry g, float[] x, float[] weight, float[]? bias, float[] y,
        float low = float.NegativeInfinity, float high = float.PositiveInfinity)
    {
        var plane = new PhasedPlane(g);
        int cg = g.InChannelsPerGroup, m = g.OutChannelsPerGroup, kernelTaps = g.KernelHeight * g.KernelWidth, taps = cg * kernelTaps;
        Parallelism.For(g.Batch * g.Groups, (start, end) =>
        {
            float[] padded = TensorPool.Rent(cg * plane.Length);
            int[] offsets = TensorPool.RentInts(taps);
            plane.TapOffsets(offsets);
            for (int t = kernelTaps; t < taps; t++) offsets[t] = offsets[t - kernelTaps] + plane.Length;
            fixed (float* xs = x, ws = weight, ys = y, pp = padded)
            fixed (int* offs = offsets)
            {
                for (int ng = start; ng < end; ng++)
                {
                    for (int c = 0; c < cg; c++) plane.Fill(xs + ((long)ng * cg + c) * g.InPixels, pp + (long)c * plane.Length);
                    for (int j = 0; j < m; j++)
                    {
                        int o = ng % g.Groups * m + j;
                        float b = bias is null ? 0f : bias[o];
                        OutputPlane(g, plane, pp, ws + o * taps, offs, taps, b, ys + ((long)ng * m + j) * g.OutPixels, low, high);
                    }
                }
            }
            TensorPool.ReturnInts(offsets);
            TensorPool.Return(padded);
        }, ItemsPerChunk((long)g.OutPixels * m * taps + cg * g.InPixels));
    }

    /// <summary>
    /// One output plane: bias plus every tap, summed tap by tap in a register per output. Rows go a vector at a
    /// time with the widest vector that fits the row (MobileNet's late rows are 8 or 4 wide), scalar below 4.
    /// </summary>
    private static void OutputPlane(ConvGeometry g, in PhasedPlane plane, float* padded, float* w, int* offsets, int taps, float bias, float* y, float low, float high)
    {
        int outW = g.OutWidth;
        if (outW >= 16 && Vector512.IsHardwareAccelerated) OutputRows<Vector512<float>, V512>(g, plane, padded, w, offsets, taps, bias, y, low, high);
        else if (outW >= 8 && Vector256.IsHardwareAccelerated) OutputRows<Vector256<float>, V256>(g, plane, padded, w, offsets, taps, bias, y, low, high);
        else if (outW >= 4 && Vector128.IsHardwareAccelerated) OutputRows<Vector128<float>, V128>(g, plane, padded, w, offsets, taps, bias, y, low, high);
        else
        {
            for (int oh = 0; oh < g.OutHeight; oh++, y += outW)
            {
                float* row = padded + (long)plane.RowOffset(oh);
                for (int ow = 0; ow < outW; ow++)
                {
                    float acc = bias;
                    for (int t = 0; t < taps; t++) acc = MathF.FusedMultiplyAdd(row[offsets[t] + ow], w[t], acc);
                    y[ow] = MathF.Min(MathF.Max(acc, low), high);
                }
            }
        }
    }

    /// <summary>
    /// Rows of at least one vector, four rows at a time: four independent accumulators, where one would wait on
    /// its own FMA latency at every tap. Outputs are written, not added, so blocks past the end are simply redone
    /// overlapping: the last vector of a row shifts back to end at the row's end, and rows past the last repeat it.
    /// </summary>
    private static void OutputRows<TVec, TOps>(ConvGeometry g, in PhasedPlane plane, float* padded, float* w, int* offsets, int taps, float bias, float* y, float low, float high)
        where TVec : struct where TOps : struct, IVectorOps<TVec>
    {
        int outW = g.OutWidth, width = TOps.Width, last = outW - width, lastRow = g.OutHeight - 1;
        for (int oh = 0; oh <= lastRow; oh += 4)
        {
            int oh1 = Math.Min(oh + 1, lastRow), oh2 = Math.Min(oh + 2, lastRow), oh3 = Math.Min(oh + 3, lastRow);
            float* row0 = padded + (long)plane.RowOffset(oh), row1 = padded + (long)plane.RowOffset(oh1);
            float* row2 = padded + (long)plane.RowOffset(oh2), row3 = padded + (long)plane.RowOffset(oh3);
            for (int ow = 0; ; ow += width)
            {
                if (ow > last) ow = last;
                var acc0 = TOps.Broadcast(bias);
                var (acc1, acc2, acc3) = (acc0, acc0, acc0);
                for (int t = 0; t < taps; t++)
                {
                    var weight = TOps.Broadcast(w[t]);
                    int at = offsets[t] + ow;
                    acc0 = TOps.MultiplyAdd(TOps.Load(row0 + at), weight, acc0);
                    acc1 = TOps.MultiplyAdd(TOps.Load(row1 + at), weight, acc1);
                    acc2 = TOps.MultiplyAdd(TOps.Load(row2 + at), weight, acc2);
                    acc3 = TOps.MultiplyAdd(TOps.Load(row3 + at), weight, acc3);
                }
                TOps.Store(y + oh * outW + ow, TOps.Clamp(acc0, low, high));
                TOps.Store(y + oh1 * outW + ow, TOps.Clamp(acc1, low, high));
                TOps.Store(y + oh2 * outW + ow, TOps.Clamp(acc2, low, high));
                TOps.Store(y + oh3 * outW + ow, TOps.Clamp(acc3, low, high));
                if (ow == last) break;
            }
        }
    }

    /// <summary>
    /// Depthwise only: dx [N, C, H, W] += the input gradient for output gradient dy [N, O, outH, outW]. At stride 1 it is itself a
    /// depthwise convolution (<see cref="InputGradientAsConvolution"/>); otherwise each dy row is scattered into a
    /// padded plane per tap.
    /// </summary>
    public static void InputGradient(ConvGeometry g, float[] dy, float[] weight, float[] dx)
    {
        if (IsStrideOneWithinExtent(g))
        {
            InputGradientAsConvolution(g, dy, weight, dx);
            return;
        }
        var plane = new PhasedPlane(g);
        int m = g.OutChannels / g.InChannels, taps = g.KernelHeight * g.KernelWidth, outW = g.OutWidth;
        Parallelism.For(g.Batch * g.InChannels, (start, end) =>
        {
            float[] padded = TensorPool.Rent(plane.Length);
            int[] offsets = TensorPool.RentInts(taps);
            plane.TapOffsets(offsets);
            fixed (float* dys = dy, ws = weight, dxs = dx, pp = padded)
            fixed (int* offs = offsets)
            {
                for (int nc = start; nc < end; nc++)
                {
                    new Span<float>(pp, plane.Length).Clear();
                    for (int j = 0; j < m; j++)
                    {
                        float* w = ws + (nc % g.InChannels * m + j) * taps;
                        float* dyPlane = dys + ((long)nc * m + j) * g.OutPixels;
                        if (outW >= 16 && Vector512.IsHardwareAccelerated) ScatterPlane<Vector512<float>, V512>(g, plane, dyPlane, w, offs, taps, pp);
                        else if (outW >= 8 && Vector256.IsHardwareAccelerated) ScatterPlane<Vector256<float>, V256>(g, plane, dyPlane, w, offs, taps, pp);
                        else ScatterPlane<Vector128<float>, V128>(g, plane, dyPlane, w, offs, taps, pp);
                    }
                    plane.AddBack(pp, dxs + (long)nc * g.InPixels);
                }
            }
            TensorPool.ReturnInts(offsets);
            TensorPool.Return(padded);
        }, ItemsPerChunk((long)g.OutPixels * m * taps + g.InPixels));
    }

    /// <summary>
    /// Depthwise only: dW [O, 1, kH, kW] and dBias [O] (either may be empty) += the parameter gradients of images
    /// [first, first + count), on the calling thread; the caller splits the batch and sums the chunks in order.
    /// Planes are read in memory order: split by channel instead, each thread jumped a whole image between
    /// 1 KB planes and waited on memory.
    /// </summary>
    public static void ParameterGradients(ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int first, int count, Span<float> dw, Span<float> dbias)
    {
        var plane = new PhasedPlane(g);
        int m = g.OutChannels / g.InChannels, taps = g.KernelHeight * g.KernelWidth, outW = g.OutWidth, outPixels = g.OutPixels;
        int width = outW >= 16 && Vector512.IsHardwareAccelerated ? 16 : outW >= 8 && Vector256.IsHardwareAccelerated ? 8 : 4;
        int lanes = g.OutChannels * taps * width;
        float[] padded = TensorPool.Rent(plane.Length);
        float[] laneSums = TensorPool.Rent(lanes);
        laneSums.AsSpan(0, lanes).Clear();
        int[] offsets = TensorPool.RentInts(taps);
        plane.TapOffsets(offsets);
        fixed (float* xs = x, dys = dy, pp = padded, sums = dw, biasSums = dbias, vectorSums = laneSums)
        fixed (int* offs = offsets)
        {
            for (long nc = (long)first * g.InChannels; nc < (long)(first + count) * g.InChannels; nc++)
            {
                if (sums is not null) plane.Fill(xs + nc * g.InPixels, pp);
                for (int j = 0; j < m; j++)
                {
                    int o = (int)(nc % g.InChannels) * m + j;
                    float* dyPlane = dys + (nc * m + j) * outPixels;
                    if (biasSums is not null) biasSums[o] += TensorPrimitives.Sum(new ReadOnlySpan<float>(dyPlane, outPixels));
                    if (sums is null) continue;
                    float* perTap = vectorSums + (long)o * taps * width;
                    if (width == 16) AccumulateTaps<Vector512<float>, V512>(g, plane, dyPlane, pp, offs, taps, perTap, sums + o * taps);
                    else if (width == 8) AccumulateTaps<Vector256<float>, V256>(g, plane, dyPlane, pp, offs, taps, perTap, sums + o * taps);
                    else AccumulateTaps<Vector128<float>, V128>(g, plane, dyPlane, pp, offs, taps, perTap, sums + o * taps);
                }
            }
            // Lanes summed once per call, in lane order, rather than once per plane and tap.
            if (sums is not null)
                for (int i = 0; i < g.OutChannels * taps; i++) sums[i] += TensorPrimitives.Sum(new ReadOnlySpan<float>(vectorSums + (long)i * width, width));
        }
        TensorPool.ReturnInts(offsets);
        TensorPool.Return(laneSums);
        TensorPool.Return(padded);
    }

    /// <summary>Stride 1 with no side padded beyond the kernel's extent: the input gradient is then a convolution too.</summary>
    private static bool IsStrideOneWithinExtent(ConvGeometry g)
    {
        int extentH = (g.KernelHeight - 1) * g.DilationHeight, extentW = (g.KernelWidth - 1) * g.DilationWidth;
        return g.StrideHeight == 1 && g.StrideWidth == 1
            && g.PadTop <= extentH && g.PadBottom <= extentH && g.PadLeft <= extentW && g.PadRight <= extentW;
    }

    /// <summary>
    /// The stride-1 input gradient as a forward pass: dx = dy, padded by (extent − padding) per side, convolved with the
    /// kernel flipped, so it runs on <see cref="OutputPlane"/>'s register-accumulating rows instead of scattering.
    /// Each dy plane's result goes to a scratch plane, then is added into dx (gradients accumulate).
    /// </summary>
    private static void InputGradientAsConvolution(ConvGeometry g, float[] dy, float[] weight, float[] dx)
    {
        int extentH = (g.KernelHeight - 1) * g.DilationHeight, extentW = (g.KernelWidth - 1) * g.DilationWidth;
        var transposed = g with
        {
            InHeight = g.OutHeight, InWidth = g.OutWidth, OutHeight = g.InHeight, OutWidth = g.InWidth,
            PadTop = extentH - g.PadTop, PadBottom = extentH - g.PadBottom, PadLeft = extentW - g.PadLeft, PadRight = extentW - g.PadRight,
        };
        var plane = new PhasedPlane(transposed);
        int m = g.OutChannels / g.InChannels, taps = g.KernelHeight * g.KernelWidth, inPixels = g.InPixels;
        float[] flipped = TensorPool.Rent(g.OutChannels * taps);
        for (int o = 0; o < g.OutChannels; o++)
            for (int t = 0; t < taps; t++) flipped[o * taps + t] = weight[o * taps + taps - 1 - t];
        Parallelism.For(g.Batch * g.InChannels, (start, end) =>
        {
            float[] padded = TensorPool.Rent(plane.Length + inPixels);
            int[] offsets = TensorPool.RentInts(taps);
            plane.TapOffsets(offsets);
            fixed (float* dys = dy, ws = flipped, dxs = dx, pp = padded)
            fixed (int* offs = offsets)
            {
                float* result = pp + plane.Length;
                for (int nc = start; nc < end; nc++)
                {
                    var target = new Span<float>(dxs + (long)nc * inPixels, inPixels);
                    for (int j = 0; j < m; j++)
                    {
                        long o = (long)nc * m + j;
                        plane.Fill(dys + o * g.OutPixels, pp);
                        OutputPlane(transposed, plane, pp, ws + (nc % g.InChannels * m + j) * taps, offs, taps, 0f, result, float.NegativeInfinity, float.PositiveInfinity);
                        TensorPrimitives.Add(target, new ReadOnlySpan<float>(result, inPixels), target);
                    }
                }
            }
            TensorPool.ReturnInts(offsets);
            TensorPool.Return(padded);
        }, ItemsPerChunk((long)inPixels * m * taps));
        TensorPool.Return(flipped);
    }

    /// <summary>
    /// Adds one dy plane times the kernel into the padded input-gradient plane, a tap at a time over the whole
    /// plane: neighbouring taps write overlapping vectors, and a load that partly overlaps a store still in flight
    /// stalls, so the stores of one tap are long retired when the next tap reads them. The end of each row (and rows
    /// shorter than a vector) go one float at a time.
    /// </summary>
    private static void ScatterPlane<TVec, TOps>(ConvGeometry g, in PhasedPlane plane, float* dyPlane, float* w, int* offsets, int taps, float* padded)
        where TVec : struct where TOps : struct, IVectorOps<TVec>
    {
        int outW = g.OutWidth, vectorEnd = outW - outW % TOps.Width;
        for (int t = 0; t < taps; t++)
        {
            var weight = TOps.Broadcast(w[t]);
            float* dyRow = dyPlane;
            for (int oh = 0; oh < g.OutHeight; oh++, dyRow += outW)
            {
                float* row = padded + (long)plane.RowOffset(oh) + offsets[t];
                for (int ow = 0; ow < vectorEnd; ow += TOps.Width)
                    TOps.Store(row + ow, TOps.MultiplyAdd(TOps.Load(dyRow + ow), weight, TOps.Load(row + ow)));
                for (int ow = vectorEnd; ow < outW; ow++) row[ow] += dyRow[ow] * w[t];
            }
        }
    }

    /// <summary>
    /// Σ over the plane of dy · (the input tap t reads), per tap: the vector part added lane-wise into
    /// <paramref name="vectorSums"/> [taps, width], the ends of rows past the last whole vector into <paramref name="sums"/>[t].
    /// </summary>
    private static void AccumulateTaps<TVec, TOps>(ConvGeometry g, in PhasedPlane plane, float* dyPlane, float* padded, int* offsets, int taps, float* vectorSums, float* sums)
        where TVec : struct where TOps : struct, IVectorOps<TVec>
    {
        int outW = g.OutWidth, outH = g.OutHeight, width = TOps.Width, vectorEnd = outW - outW % width, rowStep = plane.RowOffset(1);
        for (int t = 0; t < taps; t++)
        {
            // Rows four at a time into four accumulators: one would wait on its own FMA latency.
            var acc0 = TOps.Load(vectorSums + t * width);
            var (acc1, acc2, acc3) = (TOps.Broadcast(0f), TOps.Broadcast(0f), TOps.Broadcast(0f));
            int oh = 0;
            for (; oh + 4 <= outH; oh += 4)
            {
                float* dyRow = dyPlane + oh * outW, row = padded + (long)plane.RowOffset(oh) + offsets[t];
                for (int ow = 0; ow < vectorEnd; ow += width)
                {
                    acc0 = TOps.MultiplyAdd(TOps.Load(dyRow + ow), TOps.Load(row + ow), acc0);
                    acc1 = TOps.MultiplyAdd(TOps.Load(dyRow + outW + ow), TOps.Load(row + rowStep + ow), acc1);
                    acc2 = TOps.MultiplyAdd(TOps.Load(dyRow + 2 * outW + ow), TOps.Load(row + 2 * rowStep + ow), acc2);
                    acc3 = TOps.MultiplyAdd(TOps.Load(dyRow + 3 * outW + ow), TOps.Load(row + 3 * rowStep + ow), acc3);
                }
            }
            for (; oh < outH; oh++)
            {
                float* dyRow = dyPlane + oh * outW, row = padded + (long)plane.RowOffset(oh) + offsets[t];
                for (int ow = 0; ow < vectorEnd; ow += width) acc0 = TOps.MultiplyAdd(TOps.Load(dyRow + ow), TOps.Load(row + ow), acc0);
            }
            // IVectorOps has no Add: a·1 + c is an exact add.
            var one = TOps.Broadcast(1f);
            TOps.Store(vectorSums + t * width, TOps.MultiplyAdd(TOps.MultiplyAdd(acc3, one, acc2), one, TOps.MultiplyAdd(acc1, one, acc0)));
            if (vectorEnd == outW) continue;
            float tail = 0f;
            for (oh = 0; oh < outH; oh++)
            {
                float* dyRow = dyPlane + oh * outW, row = padded + (long)plane.RowOffset(oh) + offsets[t];
                for (int ow = vectorEnd; ow < outW; ow++) tail += dyRow[ow] * row[ow];
            }
            sums[t] += tail;
        }
    }
}
