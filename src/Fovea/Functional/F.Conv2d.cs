using System.Numerics.Tensors;
using Fovea.Kernels;

namespace Fovea;

public static partial class F
{
    /// <summary>
    /// 2-D convolution (cross-correlation, as in PyTorch) of x [N, C, H, W] with weight
    /// [O, C / groups, kH, kW] and an optional bias [O]; output [N, O, outH, outW].
    /// <paramref name="padding"/> takes an int, a (height, width) pair, <see cref="Padding2d.Same"/> or
    /// PyTorch's strings "same" / "valid". <c>groups == C</c> is a depthwise convolution.
    /// </summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, Padding2d padding = default, int dilation = 1, int groups = 1) =>
        Conv2d(null, x, weight, bias, (stride, stride), padding, (dilation, dilation), groups);

    /// <summary><see cref="Conv2d(Tensor, Tensor, Tensor?, int, Padding2d, int, int)"/> with (height, width) strides and dilations.</summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, (int Height, int Width) stride, Padding2d padding, (int Height, int Width) dilation, int groups = 1) =>
        Conv2d(null, x, weight, bias, stride, padding, dilation, groups);

    /// <summary>The op behind both overloads; <paramref name="layer"/> is the calling layer's description, so that misuse messages name the layer (null names the op).</summary>
    internal static Tensor Conv2d(string? layer, Tensor x, Tensor weight, Tensor? bias,
        (int Height, int Width) stride, Padding2d padding, (int Height, int Width) dilation, int groups)
    {
        if (weight.Rank != 4)
            throw new ArgumentException($"{layer ?? "Conv2d"}: weight must be [out_channels, in_channels / groups, kH, kW]. Received {weight.Shape}");
        int outChannels = weight.Shape[0], inChannels = weight.Shape[1] * Math.Max(groups, 1);
        string op = layer ?? $"Conv2d({inChannels}→{outChannels})";
        var g = ConvGeometry.Of(op, x.Shape, inChannels, outChannels, (weight.Shape[2], weight.Shape[3]), stride, padding, dilation, groups);
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outChannels))
            throw new ArgumentException($"{op}: bias must be [{outChannels}]. Received {bias.Shape}");

        var y = Tensor.Empty(g.OutputShape);
        if (Cropped(g, x, weight, bias) is var (cg, cw))
        {
            RunForward(cg, x, cw, bias, y);
            return y;
        }
        RunForward(g, x, weight, bias, y);
        return Autograd.Record(y, "Conv2d", [x, weight, bias], dy =>
        {
            if (DirectConv.IsDepthwise(g)) DepthwiseConv2dBackward(g, x, weight, bias, dy.Data);
            else if (BatchedIm2ColConv.Supports(g)) BatchedConv2dBackward(g, x, weight, bias, dy.Data);
            else if (ImplicitConv.Supports(g)) ImplicitConv2dBackward(g, x, weight, bias, dy.Data);
            else Conv2dBackward(g, x, weight, bias, dy.Data);
        });
    }

    /// <summary>
    /// Inference: Conv2d and its <paramref name="epilogue"/> (batch norm, ReLU, clip, 2×2 max pool) in one pass over the
    /// output, bitwise equal to the separate ops. The implicit GEMM takes any epilogue; the direct kernels (depthwise,
    /// small stems, small-plane depthwise) take a ReLU or a clip alone, the channel-vectorised and pointwise ones also a
    /// ReLU and 2×2 pool, and the channel-vectorised one a batch norm (with or without ReLU and pool) and a residual of the
    /// output's shape (without a pool), added before the ReLU. Null where the
    /// fused pass does not apply — gradients would be recorded, the kernel the geometry takes does not fuse this
    /// epilogue, the pool does not fit, or a weight or bias that the regular op will reject — and the caller runs the
    /// separate ops instead.
    /// </summary>
    internal static Tensor? TryConv2dFused(string? layer, Tensor x, Tensor weight, Tensor? bias,
        (int Height, int Width) stride, Padding2d padding, (int Height, int Width) dilation, int groups, ConvEpilogue epilogue)
    {
        if (epilogue.MaxPool2x2 && (!epilogue.Relu || epilogue.Clip is not null)) throw new ArgumentException("Conv2d: the fused 2×2 max pool needs the fused ReLU and no clip.");
        if (Autograd.NeedsGrad(x, weight, bias) || epilogue.Residual is { } shortcut && Autograd.NeedsGrad(shortcut) || weight.Rank != 4 || x.Rank != 4 || groups < 1 || weight.Shape[0] % groups != 0 || weight.Shape[1] * groups != x.Shape[1]) return null;
        int outChannels = weight.Shape[0];
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outChannels)) return null;
        var g = ConvGeometry.Of(layer ?? $"Conv2d({x.Shape[1]}→{outChannels})", x.Shape, x.Shape[1], outChannels,
            (weight.Shape[2], weight.Shape[3]), stride, padding, dilation, groups);
        // Only where Conv2d itself takes a kernel that fuses, so that fused and separate ops give the same bits.
        var (fg, w) = Cropped(g, x, weight, bias) ?? (g, weight);
        // Merged branches (zero taps for whole blocks of channels) run where those taps are skipped, wherever they can.
        var kernel = epilogue.MergedBranches && ChannelVectorConv.Runs(fg) ? ConvForwardKernel.ChannelVector : ForwardKernelOf(fg, inference: true);
        if (kernel is not (ConvForwardKernel.BatchedIm2Col or ConvForwardKernel.Implicit or ConvForwardKernel.Im2Col) && epilogue.Bounds is (float low, float high))
        {
            var clamped = Tensor.Empty(g.Batch, outChannels, g.OutHeight, g.OutWidth);
            RunClamped(kernel, fg, x, w, bias, clamped, low, high);
            return clamped;
        }
        if (epilogue.Pool is { } window)
        {
            // The pool read from the outputs kept pixel-major, only the pooled ones transposed: the separate ops' values.
            // ResNet-style's 16-channel stem with its 3×3 pool on 16×16 maps: 15.5 → 12.6 µs at batch 1, 210 → 197 at 32
            // (3 % slower fused before the pool took its rows in L1, four windows at a time).
            if (kernel is not ConvForwardKernel.ChannelVector || epilogue is not { Relu: true, MaxPool2x2: false, Clip: null, Residual: null }) return null;
            var packed = ConvPlans.ForChannelVector(fg, w);
            var windows = window.Over([g.Batch, outChannels, g.OutHeight, g.OutWidth]);
            var pooled = Tensor.Empty(g.Batch, outChannels, windows.OutH, windows.OutW);
            ChannelVectorConv.Forward(fg, packed, x.Data, bias?.Data, pooled.Data, 0f, float.PositiveInfinity, epilogue.Norm, windows: windows);
            return pooled;
        }
        if (epilogue.Residual is { } residual
            && (epilogue.MaxPool2x2 || residual.Shape != new TensorShape(g.Batch, outChannels, g.OutHeight, g.OutWidth))) return null;
        if (kernel is ConvForwardKernel.ChannelVector && epilogue is { Clip: null } && (epilogue.Norm is not null || epilogue.MaxPool2x2 || epilogue.Residual is not null)
            && (!epilogue.MaxPool2x2 || g.OutHeight >= 2 && g.OutWidth >= 2))
        {
            // The batch norm, residual, ReLU and pool applied as the tiles are stored, each tile's pixels one pool
            // window's: the separate ops' bits.
            int windowSide = epilogue.MaxPool2x2 ? 2 : 1;
            var fused = Tensor.Empty(g.Batch, outChannels, g.OutHeight / windowSide, g.OutWidth / windowSide);
            ChannelVectorConv.Forward(fg, ConvPlans.ForChannelVector(fg, w), x.Data, bias?.Data, fused.Data,
                epilogue.Relu ? 0f : float.NegativeInfinity, float.PositiveInfinity, epilogue.Norm, epilogue.MaxPool2x2, epilogue.Residual?.Data);
            return fused;
        }
        if (epilogue.Residual is not null) return null;
        if (kernel is ConvForwardKernel.Pointwise
            && epilogue is { Relu: true, MaxPool2x2: true, Norm: null, Clip: null } && g.OutHeight >= 2 && g.OutWidth >= 2)
        {
            // The ReLU fused as the output is stored, the pool as a pass over the map: the separate ops' bits.
            using var activated = Tensor.Empty(g.Batch, outChannels, g.OutHeight, g.OutWidth);
            RunClamped(kernel, fg, x, w, bias, activated, 0f, float.PositiveInfinity);
            return MaxPool2d(activated, 2);
        }
        if (kernel != ConvForwardKernel.Implicit || epilogue.MaxPool2x2 && (g.OutHeight < 2 || g.OutWidth < 2)) return null;
        int pool = epilogue.MaxPool2x2 ? 2 : 1;
        var y = Tensor.Empty(g.Batch, outChannels, g.OutHeight / pool, g.OutWidth / pool);
        ImplicitConv2dForward(fg, x, w, bias, y, epilogue);
        return y;
    }

    private static void RunForward(ConvGeometry g, Tensor x, Tensor weight, Tensor? bias, Tensor y)
    {
        switch (ForwardKernelOf(g, inference: !Autograd.NeedsGrad(x, weight, bias)))
        {
            case ConvForwardKernel.BatchedIm2Col: BatchedConv2dForward(g, x, weight, bias, y); break;
            case ConvForwardKernel.Implicit: ImplicitConv2dForward(g, x, weight, bias, y); break;
            case ConvForwardKernel.Im2Col: Im2ColConv2dForward(g, x, weight, bias, y); break;
            case var clamping: RunClamped(clamping, g, x, weight, bias, y, float.NegativeInfinity, float.PositiveInfinity); break;
        }
    }

    /// <summary>The kernels that clamp each output to [<paramref name="low"/>, <paramref name="high"/>] as they store it (a fused ReLU or ReLU6; infinite bounds change nothing).</summary>
    private static void RunClamped(ConvForwardKernel kernel, ConvGeometry g, Tensor x, Tensor weight, Tensor? bias, Tensor y, float low, float high)
    {
        switch (kernel)
        {
            case ConvForwardKernel.Pointwise: PointwiseConv.Forward(g, x.Data, weight.Data, bias?.Data, y.Data, low, high); break;
            case ConvForwardKernel.SmallPlaneDepthwise: SmallPlaneDepthwise.Forward(g, ConvPlans.ForSmallPlaneDepthwise(g, weight), x.Data, bias?.Data, y.Data, low, high); break;
            case ConvForwardKernel.DepthwiseToPixel: DepthwiseToPixel.Forward(g, ConvPlans.ForDepthwiseToPixel(g, weight), x.Data, bias?.Data, y.Data, low, high); break;
            case ConvForwardKernel.ChannelVector: ChannelVectorConv2dForward(g, x, weight, bias, y, low, high); break;
            default: DirectConv2dForward(g, x, weight, bias, y, low, high); break;
        }
    }

    /// <summary>
    /// Without gradients: the geometry with the kernel cropped to the taps that read the image, and the cropped weights
    /// (kept per weight tensor, <see cref="ConvPlans.ForCrop"/>); null when nothing crops.
    /// </summary>
    private static (ConvGeometry, Tensor)? Cropped(ConvGeometry g, Tensor x, Tensor weight, Tensor? bias) =>
        !Autograd.NeedsGrad(x, weight, bias) && KernelCrop.Crop(g) is { } cropped ? (cropped, ConvPlans.ForCrop(g, cropped, weight)) : null;

    private enum ConvForwardKernel { Pointwise, SmallPlaneDepthwise, DepthwiseToPixel, Direct, ChannelVector, BatchedIm2Col, Implicit, Im2Col }

    /// <summary>Inference on small maps and strided stems, vectorised across output channels; packed weights kept per weight tensor.</summary>
    private static void ChannelVectorConv2dForward(ConvGeometry g, Tensor x, Tensor weight, Tensor? bias, Tensor y,
        float low = float.NegativeInfinity, float high = float.PositiveInfinity) =>
        ChannelVectorConv.Forward(g, ConvPlans.ForChannelVector(g, weight), x.Data, bias?.Data, y.Data, low, high);

    /// <summary>
    /// The forward kernel a geometry takes, in order of preference; one choice for Conv2d and its fused twin. (Depthwise
    /// planes of 4×4 and up that the small-plane kernel would take go to the packed-rows one, under Direct: 2× faster.)
    /// </summary>
    private static ConvForwardKernel ForwardKernelOf(ConvGeometry g, bool inference) =>
        inference && PointwiseConv.Supports(g) ? ConvForwardKernel.Pointwise
        : inference && SmallPlaneDepthwise.Supports(g) && !PackedRowsDepthwise.Supports(g) ? ConvForwardKernel.SmallPlaneDepthwise
        : inference && DepthwiseToPixel.Supports(g) ? ConvForwardKernel.DepthwiseToPixel
        : inference && ChannelVectorConv.Supports(g) ? ConvForwardKernel.ChannelVector
        : DirectConv.RunsForward(g) ? ConvForwardKernel.Direct
        : BatchedIm2ColConv.Supports(g) ? ConvForwardKernel.BatchedIm2Col
        : ImplicitConv.Supports(g) ? ConvForwardKernel.Implicit
        : ConvForwardKernel.Im2Col;

    /// <summary>Stride-1 ungrouped convolutions: the implicit GEMM reads each padded image in place, images split across threads.</summary>
    private static void ImplicitConv2dForward(ConvGeometry g, Tensor x, Tensor weight, Tensor? bias, Tensor y, ConvEpilogue epilogue = default)
    {
        // Inference keeps plans per weight tensor; a training step, whose weights change every step, builds its own.
        bool training = Autograd.NeedsGrad(x, weight, bias);
        var plan = training ? ImplicitConv.ForOutput(g, weight.Span, Gemm.DefaultKernel) : ConvPlans.ForOutput(g, weight);
        try
        {
            RunImplicit(g, plan, x, bias, y, epilogue);
        }
        finally
        {
            if (training) plan.Dispose();
        }
    }

    /// <summary>Multiply-adds of one image below which its convolution runs on one thread.</summary>
    private const long MinSplitMultiplyAdds = 1 << 20;

    private static void RunImplicit(ConvGeometry g, ImplicitConv plan, Tensor x, Tensor? bias, Tensor y, ConvEpilogue epilogue)
    {
        float[] xs = x.Data, ys = y.Data;
        float[]? bs = bias?.Data;
        int inLength = g.InChannels * g.InPixels, outLength = g.OutChannels * epilogue.OutputPlane(g.OutHeight, g.OutWidth);
        // Fewer images than threads (batch-1 latency): each image's column tiles are split among threads instead,
        // where an image is worth waking a worker for (a small first layer takes a few µs, less than the wake-up).
        if (g.Batch < Parallelism.Threads) RunImages(0, g.Batch, splitTiles: (long)g.OutChannels * g.WindowLength * g.OutPixels >= MinSplitMultiplyAdds);
        else Parallelism.For(g.Batch, (start, end) => RunImages(start, end, splitTiles: false));

        void RunImages(int start, int end, bool splitTiles)
        {
            var biasSpan = bs.AsSpan(0, bs is null ? 0 : g.OutChannels);
            if (!splitTiles)
            {
                // A thread's images in one call: Winograd's blocks of tile rows then run on from one image into the next.
                float[] batchScratch = TensorPool.Rent(plan.ScratchLengthFor(end - start));
                plan.RunImages(xs.AsSpan(start * inLength, (end - start) * inLength), ys.AsSpan(start * outLength, (end - start) * outLength), end - start,
                    biasSpan, batchScratch, epilogue);
                TensorPool.Return(batchScratch);
                return;
            }
            int scratchLength = plan.ScratchLength(splitTiles);
            float[] scratch = TensorPool.Rent(scratchLength);
            for (int n = start; n < end; n++)
                plan.Run(xs.AsSpan(n * inLength, inLength), ys.AsSpan(n * outLength, outLength), biasSpan,
                    accumulate: false, scratch.AsSpan(0, scratchLength), splitTiles, epilogue);
            TensorPool.Return(scratch);
        }
    }

    /// <summary>
    /// The implicit-GEMM backward: dW by dot products of dy with shifted padded images (summed per batch chunk,
    /// see <see cref="ChunkedGradient"/>), dX as the convolution of padded dy with the flipped weights.
    /// </summary>
    private static void ImplicitConv2dBackward(ConvGeometry g, Tensor x, Tensor weight, Tensor? bias, float[] dy)
    {
        int chunks = Parallelism.ChunkCount(g.Batch);
        var dw = weight.RequiresGrad ? new ChunkedGradient(weight, chunks) : null;
        var db = bias is not null && bias.RequiresGrad ? new ChunkedGradient(bias, chunks) : null;
        // A fresh input gradient is written, not added to: the products cover every element, and zero-filling it first
        // cost a pass over it (6 MB for cnn-bn's second conv).
        bool fresh = false;
        float[]? dx = x.RequiresGrad ? Autograd.GradientStorage(x, out fresh) : null;
        using var plan = dx is null ? null : ImplicitConv.ForInputGradient(g, weight.Span, Gemm.DefaultKernel);
        float[] xs = x.Data;
        int inLength = g.InChannels * g.InPixels, outLength = g.OutChannels * g.OutPixels, p = g.OutPixels;
        ChunkedGradient.ForEachChunk(g.Batch, chunks, (chunk, start, end) =>
        {
            if (dw is not null)
                ConvWeightGradient.Accumulate(g, Gemm.DefaultKernel, xs.AsSpan(start * inLength, (end - start) * inLength),
                    dy.AsSpan(start * outLength, (end - start) * outLength), end - start, dw.For(chunk));
            if (db is not null)
            {
                var dbChunk = db.For(chunk);
                for (int n = start; n < end; n++)
                    for (int o = 0; o < g.OutChannels; o++) dbChunk[o] += TensorPrimitives.Sum(dy.AsSpan(n * outLength + o * p, p));
            }
            if (plan is null) return;
            if (fresh)
            {
                // Written, not added to: the chunk's images in one call (Winograd's blocks then run on across images).
                float[] batchScratch = TensorPool.Rent(plan.ScratchLengthFor(end - start));
                plan.RunImages(dy.AsSpan(start * outLength, (end - start) * outLength), dx!.AsSpan(start * inLength, (end - start) * inLength), end - start,
                    default, batchScratch);
                TensorPool.Return(batchScratch);
                return;
            }
            int scratchLength = plan.ScratchLength(splitTiles: false);
            float[] scratch = TensorPool.Rent(scratchLength);
            for (int n = start; n < end; n++)
                plan.Run(dy.AsSpan(n * outLength, outLength), dx!.AsSpan(n * inLength, inLength), default, accumulate: true, scratch.AsSpan(0, scratchLength));
            TensorPool.Return(scratch);
        });
        dw?.Reduce();
        db?.Reduce();
    }

    /// <summary>Any other convolution: im2col per image and group, then a GEMM.</summary>
    private static void Im2ColConv2dForward(ConvGeometry g, Tensor x, Tensor weight, Tensor? bias, Tensor y)
    {
        float[] xs = x.Data, ws = weight.Data, ys = y.Data;
        float[]? bs = bias?.Data;
        // Images are independent: each chunk of the batch gets one im2col scratch (never a whole-batch buffer).
        Parallelism.For(g.Batch, (start, end) =>
        {
            float[]? columns = g.IsPointwise ? null : TensorPool.Rent(g.ColumnsLength);
            for (int n = start; n < end; n++)
                for (int group = 0; group < g.Groups; group++)
                    Conv2dForward(g, GroupInput(g, xs, n, group), ws, bs, GroupOutput(g, ys, n, group), group, columns);
            if (columns is not null) TensorPool.Return(columns);
        });
    }

    /// <summary>One group of one image: output [O/groups, P] = W_group [O/groups, K] · im2col [K, P] (+ bias).</summary>
    private static void Conv2dForward(ConvGeometry g, ReadOnlySpan<float> image, float[] weight, float[]? bias, Span<float> output, int group, float[]? columns)
    {
        int og = g.OutChannelsPerGroup, k = g.WindowLength, p = g.OutPixels;
        if (bias is not null)
        {
            for (int o = 0; o < og; o++) output.Slice(o * p, p).Fill(bias[group * og + o]);
        }
        Gemm.Sgemm(false, false, og, p, k, 1f, weight.AsSpan(group * og * k, og * k), k, Columns(g, image, columns), p,
            bias is null ? 0f : 1f, output, p);
    }

    /// <summary>
    /// dX per image (Wᵀ·dY, then col2im), dW += dY·im2colᵀ and dBias += Σ dY. Images write disjoint parts of dX;
    /// dW and dBias are summed over the batch, so they go through <see cref="ChunkedGradient"/>.
    /// </summary>
    private static void Conv2dBackward(ConvGeometry g, Tensor x, Tensor weight, Tensor? bias, float[] dy)
    {
        int chunks = Parallelism.ChunkCount(g.Batch);
        var dw = weight.RequiresGrad ? new ChunkedGradient(weight, chunks) : null;
        var db = bias is not null && bias.RequiresGrad ? new ChunkedGradient(bias, chunks) : null;
        float[]? dx = x.RequiresGrad ? ChunkedGradient.GradientArray(x) : null;
        float[] xs = x.Data, ws = weight.Data;
        int og = g.OutChannelsPerGroup, cg = g.InChannelsPerGroup, k = g.WindowLength, p = g.OutPixels;
        ChunkedGradient.ForEachChunk(g.Batch, chunks, (chunk, start, end) =>
        {
            // One scratch matrix serves twice per group: im2col of x for dW, then Wᵀ·dY for dX.
            float[]? columns = g.IsPointwise ? null : TensorPool.Rent(g.ColumnsLength);
            var dwChunk = dw is null ? default : dw.For(chunk);
            var dbChunk = db is null ? default : db.For(chunk);
            for (int n = start; n < end; n++)
            {
                for (int group = 0; group < g.Groups; group++)
                {
                    ReadOnlySpan<float> dyGroup = GroupOutput(g, dy, n, group);
                    var wGroup = ws.AsSpan(group * og * k, og * k);
                    if (dw is not null)
                        Gemm.Sgemm(false, true, og, k, p, 1f, dyGroup, p, Columns(g, GroupInput(g, xs, n, group), columns), p, 1f, dwChunk.Slice(group * og * k, og * k), k);
                    if (db is not null)
                    {
                        for (int o = 0; o < og; o++) dbChunk[group * og + o] += TensorPrimitives.Sum(dyGroup.Slice(o * p, p));
                    }
                    if (dx is null) continue;
                    var dxGroup = GroupInput(g, dx, n, group);
                    if (columns is null)
                    {
                        Gemm.Sgemm(true, false, cg, p, og, 1f, wGroup, k, dyGroup, p, 1f, dxGroup, p);
                    }
                    else
                    {
                        Gemm.Sgemm(true, false, k, p, og, 1f, wGroup, k, dyGroup, p, 0f, columns.AsSpan(0, g.ColumnsLength), p);
                        Im2Col.FoldAdd(columns.AsSpan(0, g.ColumnsLength), dxGroup, g);
                    }
                }
            }
            if (columns is not null) TensorPool.Return(columns);
        });
        dw?.Reduce();
        db?.Reduce();
    }

    /// <summary>The im2col matrix of one group's image, in <paramref name="columns"/>; a pointwise conv uses the image itself.</summary>
    private static ReadOnlySpan<float> Columns(ConvGeometry g, ReadOnlySpan<float> image, float[]? columns)
    {
        if (columns is null) return image;
        var matrix = columns.AsSpan(0, g.ColumnsLength);
        Im2Col.Unfold(image, matrix, g);
        return matrix;
    }

    /// <summary>Channels of <paramref name="group"/> of image <paramref name="n"/> in an [N, C, H, W] array: [C/groups, H, W].</summary>
    private static Span<float> GroupInput(ConvGeometry g, float[] nchw, int n, int group) =>
        nchw.AsSpan((n * g.InChannels + group * g.InChannelsPerGroup) * g.InPixels, g.InChannelsPerGroup * g.InPixels);

    /// <summary>Channels of <paramref name="group"/> of image <paramref name="n"/> in an [N, O, outH, outW] array: [O/groups, P].</summary>
    private static Span<float> GroupOutput(ConvGeometry g, float[] nchw, int n, int group) =>
        nchw.AsSpan((n * g.OutChannels + group * g.OutChannelsPerGroup) * g.OutPixels, g.OutChannelsPerGroup * g.OutPixels);
}
