using Fovea.Kernels;

namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// Conv (opsets 1 and 11 — the same semantics): any number of spatial axes, auto_pad, asymmetric pads, strides,
/// dilations, group and an optional bias. 2-D and 1-D convolutions go through <see cref="F.Conv2d(Tensor, Tensor, Tensor?, int, Padding2d, int, int)"/>,
/// so imported CNNs run on Fovea's fast kernels and stay trainable; 3-D and above take the N-d im2col + GEMM path
/// (<see cref="ConvNd"/>, inference only). A ReLU and a 2×2 max pool after it that
/// <see cref="InferenceRewrite"/> merged into the node (<see cref="InferenceRewrite.FusedRelu"/>,
/// <see cref="InferenceRewrite.FusedMaxPool"/>), and a residual Add (<see cref="InferenceRewrite.FusedResidual"/>), run
/// in the convolution's epilogue where the kernel takes them.
/// </summary>
internal static class ConvOps
{
    [OnnxOp("Conv")]
    public static OnnxKernel Conv(OnnxNodeContext node)
    {
        var spatial = SpatialAttributes.Read(node, hasCeilMode: false);
        int group = ConvOperands.ReadGroup(node);
        ConvOperands.CheckWeight(node, spatial.Kernel, group, transposed: false);
        bool clipped = node.Has(InferenceRewrite.FusedClipMin);
        (float, float) clip = (node.Float(InferenceRewrite.FusedClipMin, float.NegativeInfinity), node.Float(InferenceRewrite.FusedClipMax, float.PositiveInfinity));
        long[] window = node.Ints(InferenceRewrite.FusedMaxPoolWindow) ?? [];
        var epilogue = new ConvEpilogue(node.Int(InferenceRewrite.FusedRelu, 0) != 0, node.Int(InferenceRewrite.FusedMaxPool, 0) != 0, Clip: clipped ? clip : null,
            MergedBranches: node.Int(InferenceRewrite.MergedBranches, 0) != 0,
            Pool: window is [var kh, var kw, var sh, var sw, var top, var left, var bottom, var right, var ceil]
                ? new MaxPoolWindow(((int)kh, (int)kw), ((int)sh, (int)sw), ((int)top, (int)left), ((int)bottom, (int)right), ceil != 0) : null);
        bool residual = node.Int(InferenceRewrite.FusedResidual, 0) != 0;
        long[]? blockReaders = node.Ints(InferenceRewrite.BlockedOutput);
        return inputs =>
        {
            if (blockReaders is not null || inputs[0] is { BlockedChannels: > 0 })
            {
                if (ConvInBlocks.TryRun(node, spatial, group, inputs, epilogue, residual, blockReaders) is { } inBlocks) return [inBlocks];
                if (inputs[0] is { BlockedChannels: > 0 } blocked)
                {
                    // What the blocked kernel does not run reads the planes.
                    using var planes = F.FromChannelBlocks(blocked.Floats!, blocked.BlockedChannels);
                    var result = Run([OnnxValue.Float(planes), .. inputs[1..]]);
                    return ReferenceEquals(result, planes) ? [OnnxValue.Float(planes.Clone())] : [OnnxValue.Float(result)];
                }
            }
            return [OnnxValue.Float(Run(inputs))];
        };

        Tensor Run(OnnxValue?[] inputs)
        {
            var op = ConvOperands.Of(inputs, spatial.Kernel, group, transposed: false);
            var axes = spatial.Geometry(node, op.InputSpatial, op.Kernel);
            return residual ? WithResidual(op, axes, inputs[3]!.FloatData("residual (the merged Add's other operand)"), epilogue, group)
                : axes.Length == 2 && !epilogue.IsNone ? Fused(op, axes, epilogue)
                : axes.Length <= 2 ? ThroughConv2d(op, axes) : ConvNd(op.X, op.W, op.B, axes, group);
        }
    }

    /// <summary>
    /// Conv, plus the shortcut <paramref name="shortcut"/> that <see cref="InferenceRewrite"/> merged into the node, then a
    /// ReLU if merged too: in one pass where the fused kernel takes them (the shortcut of the output's shape), else as the
    /// separate Conv, Add (broadcasting) and Relu ops compute them.
    /// </summary>
    private static Tensor WithResidual(ConvOperands op, SpatialAttributes.Axis[] axes, Tensor shortcut, ConvEpilogue epilogue, int group)
    {
        if (axes.Length == 2 && TryFused(op, axes, epilogue with { Residual = shortcut }) is { } fused) return fused;
        var y = axes.Length <= 2 ? ThroughConv2d(op, axes) : ConvNd(op.X, op.W, op.B, axes, group);
        var sum = F.Add(y, shortcut);
        var result = epilogue.Relu ? F.Relu(sum) : sum;
        if (!Autograd.NeedsGrad(op.X, op.W, op.B))
        {
            y.Dispose();
            if (!ReferenceEquals(sum, result)) sum.Dispose();
        }
        return result;
    }

    /// <summary>Conv, then ReLU and (optionally) a 2×2 max pool, or a clip: in one pass where the fused kernel takes the geometry, else one op after the other.</summary>
    private static Tensor Fused(ConvOperands op, SpatialAttributes.Axis[] axes, ConvEpilogue epilogue)
    {
        if (TryFused(op, axes, epilogue) is { } fused) return fused;
        if (epilogue.Pool is { } window && TryFused(op, axes, epilogue with { Pool = null }) is { } unpooled)
        {
            // The conv and its ReLU fused still (a merged node keeps its kernel), the pool after them.
            var pooled = MaxPool(unpooled, window);
            if (!Autograd.NeedsGrad(unpooled)) unpooled.Dispose();
            return pooled;
        }
        var y = ThroughConv2d(op, axes);
        if (epilogue.Clip is var (low, high))
        {
            // Clip records no gradient, as the separate op (the rewrite merges one only into graphs loaded for inference).
            ActivationOps.Clip(y.Span, low, high, y.Span);
            return y;
        }
        var activated = F.Relu(y);
        var result = epilogue.MaxPool2x2 ? F.MaxPool2d(activated, 2) : epilogue.Pool is { } p ? MaxPool(activated, p) : activated;
        if (!Autograd.NeedsGrad(op.X, op.W, op.B))
        {
            y.Dispose();
            if (!ReferenceEquals(activated, result)) activated.Dispose();
        }
        return result;
    }

    /// <summary>The merged MaxPool as its own op computes it (<see cref="PoolOps.MaxPool2d"/>).</summary>
    private static Tensor MaxPool(Tensor x, MaxPoolWindow p)
    {
        var windows = p.Over(x.Shape.AsSpan());
        return PoolOps.MaxPool2d(x,
            [new(p.Kernel.H, p.Stride.H, 1, p.PadBegin.H, p.PadEnd.H, windows.OutH), new(p.Kernel.W, p.Stride.W, 1, p.PadBegin.W, p.PadEnd.W, windows.OutW)],
            p.CeilMode);
    }

    /// <summary>A 2-D conv and its epilogue in one pass, where the pads are symmetric and the fused kernel takes them; else null.</summary>
    private static Tensor? TryFused(ConvOperands op, SpatialAttributes.Axis[] axes, ConvEpilogue epilogue)
    {
        var (h, v) = (axes[0], axes[1]);
        return h.PadBegin == h.PadEnd && v.PadBegin == v.PadEnd
            ? F.TryConv2dFused(null, op.X, op.W, op.B, (h.Stride, v.Stride), (h.PadBegin, v.PadBegin), (h.Dilation, v.Dilation), op.Group, epilogue)
            : null;
    }

    /// <summary>
    /// A 2-D convolution (or a 1-D one as 2-D with height 1) by F.Conv2d. Padding that differs between the two
    /// sides of an axis (SAME_* with an odd total, or explicit pads) is applied by F.Pad first, as F.Conv2d pads symmetrically.
    /// </summary>
    private static Tensor ThroughConv2d(ConvOperands op, SpatialAttributes.Axis[] axes)
    {
        bool oneD = axes.Length == 1;
        var x = oneD ? F.Reshape(op.X, [.. op.X.Shape.ToArray()[..2], 1, op.X.Shape[2]]) : op.X;
        var w = oneD ? F.Reshape(op.W, [.. op.W.Shape.ToArray()[..2], 1, op.W.Shape[2]]) : op.W;
        var (h, v) = oneD ? (new SpatialAttributes.Axis(1, 1, 1, 0, 0, 1), axes[0]) : (axes[0], axes[1]);
        Padding2d padding = (h.PadBegin, v.PadBegin);
        var padded = x;
        if (h.PadBegin != h.PadEnd || v.PadBegin != v.PadEnd)
        {
            padded = F.Pad(x, [v.PadBegin, v.PadEnd, h.PadBegin, h.PadEnd]);
            padding = default;
        }
        var y = F.Conv2d(padded, w, op.B, (h.Stride, v.Stride), padding, (h.Dilation, v.Dilation), op.Group);
        var result = oneD ? F.Reshape(y, [.. y.Shape.ToArray()[..2], y.Shape[3]]) : y;
        // Without a tape the intermediates are nobody's: give their memory back to the pool.
        if (!Autograd.NeedsGrad(op.X, op.W, op.B))
        {
            foreach (var t in new[] { x, w, padded, y })
                if (!ReferenceEquals(t, op.X) && !ReferenceEquals(t, op.W) && !ReferenceEquals(t, result)) t.Dispose();
        }
        return result;
    }

    /// <summary>
    /// N-d convolution of x [N, C, D1..Dk] with w [O, C / group, k1..kk] and optional b [O], per image and group
    /// Y = W_g · im2col(X_g) (+ bias). <paramref name="axes"/> is the geometry from <see cref="SpatialAttributes.Geometry"/>.
    /// Inference only: the result records no gradient.
    /// </summary>
    internal static Tensor ConvNd(Tensor x, Tensor w, Tensor? b, SpatialAttributes.Axis[] axes, int group)
    {
        int channels = x.Shape[1], outChannels = w.Shape[0], cg = channels / group, og = outChannels / group;
        var window = new ConvWindow(x.Shape.AsSpan()[2..], axes.Select(a => a.Output).ToArray(), axes);
        var y = Tensor.Empty([x.Shape[0], outChannels, .. axes.Select(a => a.Output)]);
        int k = cg * window.Taps, p = window.GridPixels, fieldLength = cg * window.FieldPixels;
        int minChannels = Math.Max(1, MinUnfoldPerChunk / Math.Max(1, window.Taps * p));
        ConvOperands.ForEachImageGroup(x.Shape[0], group, item =>
        {
            int image = item / group, g = item % group, fieldStart = (image * channels + g * cg) * window.FieldPixels;
            var output = y.Span.Slice((image * outChannels + g * og) * p, og * p);
            if (b is not null)
            {
                var bias = b.Values;
                for (int o = 0; o < og; o++) output.Slice(o * p, p).Fill(bias[g * og + o]);
            }
            float[]? columns = window.IsIdentity ? null : TensorPool.Rent(k * p);
            if (columns is not null)
                Parallelism.For(cg, (c0, c1) => window.Unfold(x.Span.Slice(fieldStart, fieldLength), columns.AsSpan(0, k * p), c0, c1), minChannels);
            ReadOnlySpan<float> matrix = columns is null ? x.Span.Slice(fieldStart, fieldLength) : columns.AsSpan(0, k * p);
            Gemm.Sgemm(false, false, og, p, k, 1f, w.Span.Slice(g * og * k, og * k), k, matrix, p, b is null ? 0f : 1f, output, p);
            if (columns is not null) TensorPool.Return(columns);
        });
        return y;
    }

    /// <summary>Floats a thread should at least copy before forking an unfold or fold over channels pays off.</summary>
    internal const int MinUnfoldPerChunk = 1 << 15;
}
