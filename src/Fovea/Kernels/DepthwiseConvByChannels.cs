using System.Numerics.Tensors;

namespace Fovea.Kernels;

/// <summary>
/// Depthwise convolution of narrow planes (MobileNet's last stages: 4×4, 2×2, 1×1 outputs),
/// vectorised across channels instead of along rows. Along a row of 1 to 4 outputs <see cref="DirectConv"/>
/// runs scalar or on short vectors and spends its time on per-plane overhead; here a block of channels of one image is transposed
/// to pixel-major [pixels, channels] (each input channel repeated m times for multiplier m, so that lane o reads
/// the input of output channel o), every (output pixel, tap) that lands inside the image is one vector
/// multiply-add over the block, and the result is transposed back. Taps in the padding are skipped, through
/// <see cref="BatchedIm2ColConv.PixelOffsets"/>'s table (−1 in the padding). Work is split over (image, channel block) for the
/// forward and input gradient, over channel blocks for the weight gradient (each summing the whole batch in
/// order), so no float sum crosses threads.
/// </summary>
internal static class DepthwiseConvByChannels
{
    /// <summary>Input channels per block: enough lanes to amortise a call, few enough for parallel blocks at batch 1.</summary>
    private const int BlockChannels = 64;

    /// <summary>
    /// Whether <paramref name="g"/> is depthwise with output rows of fewer than 8 (measured: 4-wide rows run 1.3–1.7×
    /// faster here than as Vector128 rows; from 8 wide the row kernel wins).
    /// </summary>
    public static bool Supports(ConvGeometry g) => DirectConv.IsDepthwise(g) && g.OutWidth < 8;

    /// <summary>y = the depthwise convolution of x (+ bias), each output clamped to [<paramref name="low"/>, <paramref name="high"/>] (see <see cref="DirectConv.Forward"/>).</summary>
    public static void Forward(ConvGeometry g, float[] x, float[] weight, float[]? bias, float[] y, float low = float.NegativeInfinity, float high = float.PositiveInfinity)
    {
        using var plan = new Plan(g, weight);
        int blocks = plan.Blocks;
        Parallelism.For(g.Batch * blocks, (start, end) =>
        {
            float[] scratch = TensorPool.Rent(plan.ScratchLength);
            for (int item = start; item < end; item++)
            {
                var (n, block) = (item / blocks, item % blocks);
                var (o0, lanes) = plan.Lanes(block);
                var inputs = plan.Expand(x, n, block, scratch);
                var outputs = scratch.AsSpan(plan.InputLength, g.OutPixels * lanes);
                for (int p = 0; p < g.OutPixels; p++)
                {
                    var row = outputs.Slice(p * lanes, lanes);
                    if (bias is null) row.Clear();
                    else bias.AsSpan(o0, lanes).CopyTo(row);
                    for (int t = 0; t < plan.TapCount; t++)
                    {
                        int offset = plan.Offset(p, t);
                        if (offset >= 0) TensorPrimitives.MultiplyAdd(inputs.Slice(offset * lanes, lanes), plan.WeightRow(t, o0, lanes), row, row);
                    }
                }
                for (int o = 0; o < lanes; o++)
                {
                    var plane = y.AsSpan((n * g.OutChannels + o0 + o) * g.OutPixels, g.OutPixels);
                    for (int p = 0; p < plane.Length; p++) plane[p] = MathF.Min(MathF.Max(outputs[p * lanes + o], low), high);
                }
            }
            TensorPool.Return(scratch);
        }, DirectConv.ItemsPerChunk((long)g.OutPixels * plan.TapCount * BlockChannels * plan.Multiplier));
    }

    /// <summary>dx += the input gradient: each dy pixel times each inside tap's weights, added at the input pixel it read.</summary>
    public static void InputGradient(ConvGeometry g, float[] dy, float[] weight, float[] dx)
    {
        using var plan = new Plan(g, weight);
        int blocks = plan.Blocks, m = plan.Multiplier;
        Parallelism.For(g.Batch * blocks, (start, end) =>
        {
            float[] scratch = TensorPool.Rent(plan.ScratchLength);
            for (int item = start; item < end; item++)
            {
                var (n, block) = (item / blocks, item % blocks);
                var (o0, lanes) = plan.Lanes(block);
                var gradients = plan.OutputsByPixel(dy, n, block, scratch);
                var inputs = scratch.AsSpan(0, plan.InputLength);
                inputs[..(g.InPixels * lanes)].Clear();
                for (int p = 0; p < g.OutPixels; p++)
                    for (int t = 0; t < plan.TapCount; t++)
                    {
                        int offset = plan.Offset(p, t);
                        if (offset < 0) continue;
                        var target = inputs.Slice(offset * lanes, lanes);
                        TensorPrimitives.MultiplyAdd(gradients.Slice(p * lanes, lanes), plan.WeightRow(t, o0, lanes), target, target);
                    }
                for (int lane = 0; lane < lanes; lane++)
                {
                    var plane = dx.AsSpan((n * g.InChannels + (o0 + lane) / m) * g.InPixels, g.InPixels);
                    for (int i = 0; i < plane.Length; i++) plane[i] += inputs[i * lanes + lane];
                }
            }
            TensorPool.Return(scratch);
        }, DirectConv.ItemsPerChunk((long)g.OutPixels * plan.TapCount * BlockChannels * plan.Multiplier));
    }

    /// <summary>dW and dBias += their gradients (either may be null); each channel block sums the whole batch in a fixed order.</summary>
    public static void ParameterGradients(ConvGeometry g, float[] x, float[] dy, float[]? dw, float[]? dbias)
    {
        using var plan = new Plan(g, weight: null);
        int taps = plan.TapCount;
        Parallelism.For(plan.Blocks, (start, end) =>
        {
            float[] scratch = TensorPool.Rent(plan.ScratchLength);
            float[] sums = TensorPool.Rent(taps * BlockChannels * plan.Multiplier);
            for (int block = start; block < end; block++)
            {
                var (o0, lanes) = plan.Lanes(block);
                var weightSums = sums.AsSpan(0, taps * lanes);
                weightSums.Clear();
                for (int n = 0; n < g.Batch; n++)
                {
                    var gradients = plan.OutputsByPixel(dy, n, block, scratch);
                    var inputs = dw is null ? default : plan.Expand(x, n, block, scratch);
                    for (int p = 0; p < g.OutPixels; p++)
                    {
                        var gradient = gradients.Slice(p * lanes, lanes);
                        if (dbias is not null) TensorPrimitives.Add(dbias.AsSpan(o0, lanes), gradient, dbias.AsSpan(o0, lanes));
                        if (dw is null) continue;
                        for (int t = 0; t < taps; t++)
                        {
                            int offset = plan.Offset(p, t);
                            if (offset < 0) continue;
                            var target = weightSums.Slice(t * lanes, lanes);
                            TensorPrimitives.MultiplyAdd(gradient, inputs.Slice(offset * lanes, lanes), target, target);
                        }
                    }
                }
                if (dw is null) continue;
                for (int lane = 0; lane < lanes; lane++)
                    for (int t = 0; t < taps; t++) dw[(o0 + lane) * taps + t] += weightSums[t * lanes + lane];
            }
            TensorPool.Return(sums);
            TensorPool.Return(scratch);
        }, DirectConv.ItemsPerChunk((long)g.Batch * g.OutPixels * taps * BlockChannels * plan.Multiplier));
    }

    /// <summary>What every block shares: the (pixel, tap) → input offset table and the weights transposed to [taps, O].</summary>
    private sealed class Plan : IDisposable
    {
        private readonly ConvGeometry _g;
        private readonly int[] _offsets;
        private readonly float[]? _weightsByTap;

        public Plan(ConvGeometry g, float[]? weight)
        {
            _g = g;
            Multiplier = g.OutChannels / g.InChannels;
            TapCount = g.KernelHeight * g.KernelWidth;
            Blocks = (g.InChannels + BlockChannels - 1) / BlockChannels;
            _offsets = TensorPool.RentInts(g.OutPixels * TapCount);
            BatchedIm2ColConv.PixelOffsets(g, _offsets.AsSpan(0, g.OutPixels * TapCount));
            if (weight is null) return;
            _weightsByTap = TensorPool.Rent(TapCount * g.OutChannels);
            for (int o = 0; o < g.OutChannels; o++)
                for (int t = 0; t < TapCount; t++) _weightsByTap[t * g.OutChannels + o] = weight[o * TapCount + t];
        }

        public int Multiplier { get; }
        public int TapCount { get; }
        public int Blocks { get; }

        /// <summary>Floats of the pixel-major input block, then of the pixel-major output block.</summary>
        public int InputLength => _g.InPixels * BlockChannels * Multiplier;
        public int ScratchLength => InputLength + _g.OutPixels * BlockChannels * Multiplier;

        /// <summary>The first output channel of <paramref name="block"/> and how many it has.</summary>
        public (int First, int Count) Lanes(int block)
        {
            int first = block * BlockChannels;
            return (first * Multiplier, (Math.Min(_g.InChannels, first + BlockChannels) - first) * Multiplier);
        }

        /// <summary>The input pixel tap <paramref name="t"/> of output pixel <paramref name="p"/> reads, or −1 in the padding.</summary>
        public int Offset(int p, int t) => _offsets[p * TapCount + t];

        public ReadOnlySpan<float> WeightRow(int tap, int o0, int lanes) => _weightsByTap.AsSpan(tap * _g.OutChannels + o0, lanes);

        /// <summary>Image <paramref name="n"/>'s block of input planes, pixel-major, each channel repeated for its m output lanes, at the start of scratch.</summary>
        public Span<float> Expand(float[] x, int n, int block, float[] scratch)
        {
            var (o0, lanes) = Lanes(block);
            var inputs = scratch.AsSpan(0, _g.InPixels * lanes);
            for (int lane = 0; lane < lanes; lane++)
            {
                var plane = x.AsSpan((n * _g.InChannels + (o0 + lane) / Multiplier) * _g.InPixels, _g.InPixels);
                for (int i = 0; i < plane.Length; i++) inputs[i * lanes + lane] = plane[i];
            }
            return inputs;
        }

        /// <summary>Image <paramref name="n"/>'s block of output planes of <paramref name="nchw"/>, pixel-major, after the input block in scratch.</summary>
        public Span<float> OutputsByPixel(float[] nchw, int n, int block, float[] scratch)
        {
            var (o0, lanes) = Lanes(block);
            var outputs = scratch.AsSpan(InputLength, _g.OutPixels * lanes);
            for (int lane = 0; lane < lanes; lane++)
            {
                var plane = nchw.AsSpan((n * _g.OutChannels + o0 + lane) * _g.OutPixels, _g.OutPixels);
                for (int p = 0; p < plane.Length; p++) outputs[p * lanes + lane] = plane[p];
            }
            return outputs;
        }

        public void Dispose()
        {
            TensorPool.ReturnInts(_offsets);
            if (_weightsByTap is not null) TensorPool.Return(_weightsByTap);
        }
    }
}
