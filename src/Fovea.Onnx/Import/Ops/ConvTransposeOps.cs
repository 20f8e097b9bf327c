using Fovea.Kernels;

namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// ConvTranspose (opsets 1 and 11), any number of spatial axes: the adjoint of Conv — per image and group
/// columns = W_gᵀ · X_g, folded (col2im) into the output — with strides, dilations, group, pads, auto_pad,
/// output_padding, output_shape and an optional bias. Inference only: the result records no gradient.
/// </summary>
internal static class ConvTransposeOps
{
    [OnnxOp("ConvTranspose")]
    public static OnnxKernel ConvTranspose(OnnxNodeContext node)
    {
        var spatial = SpatialAttributes.Read(node, hasCeilMode: false);
        int group = ConvOperands.ReadGroup(node);
        var outputPadding = Counts(node, "output_padding", allowZero: true);
        var outputShape = Counts(node, "output_shape", allowZero: false);
        ConvOperands.CheckWeight(node, spatial.Kernel, group, transposed: true);
        return inputs =>
        {
            var op = ConvOperands.Of(inputs, spatial.Kernel, group, transposed: true);
            var axes = Geometry(spatial, outputPadding, outputShape, op.InputSpatial, op.Kernel);
            return [OnnxValue.Float(ConvTransposeNd(op.X, op.W, op.B, axes, group))];
        };
    }

    /// <summary>
    /// Per spatial axis: the padding cropped from the full output s·(in − 1) + output_padding + d·(k − 1) + 1 and
    /// the output size (<see cref="SpatialAttributes.Axis.Output"/>). With output_shape, or auto_pad SAME_* (output
    /// in·s), the padding is what makes that size: SAME_UPPER crops ⌊total / 2⌋ at the begin, otherwise the end gets
    /// ⌊total / 2⌋ — floor division, so a negative total (an output larger than the full one) extends at the end.
    /// </summary>
    internal static SpatialAttributes.Axis[] Geometry(SpatialAttributes spatial, int[]? outputPadding, int[]? outputShape, int[] input, int[] kernel)
    {
        int n = input.Length;
        Check("strides", spatial.Strides, n);
        Check("dilations", spatial.Dilations, n);
        Check("pads", spatial.Pads, 2 * n);
        Check("output_padding", outputPadding, n);
        if (outputShape is not null && outputShape.Length != n && outputShape.Length != n + 2)
            throw new ArgumentException($"output_shape {TensorShape.Format(outputShape)} has {outputShape.Length} values, the input needs {n} (or {n + 2} with N and C)");
        var axes = new SpatialAttributes.Axis[n];
        for (int i = 0; i < n; i++)
        {
            int k = kernel[i], s = spatial.Strides?[i] ?? 1, d = spatial.Dilations?[i] ?? 1;
            long full = (long)s * (input[i] - 1) + (outputPadding?[i] ?? 0) + (long)d * (k - 1) + 1;
            long output, begin, end;
            long? wanted = outputShape is not null ? outputShape[outputShape.Length - n + i]
                : spatial.AutoPad is "SAME_UPPER" or "SAME_LOWER" ? (long)input[i] * s : null;
            if (wanted is { } size)
            {
                long total = full - size;
                long half = (long)Math.Floor(total / 2.0);
                begin = spatial.AutoPad == "SAME_UPPER" ? half : total - half;
                end = total - begin;
                output = size;
            }
            else
            {
                begin = spatial.Pads?[i] ?? 0;
                end = spatial.Pads?[i + n] ?? 0;
                output = full - begin - end;
            }
            if (output < 1 || output > int.MaxValue)
                throw new ArgumentException($"the output along spatial axis {i} would have size {output} (input {input[i]}, kernel {k}, stride {s}, dilation {d}, pads {begin}+{end})");
            axes[i] = new SpatialAttributes.Axis(k, s, d, (int)begin, (int)end, (int)output);
        }
        return axes;
    }

    /// <summary>
    /// N-d transposed convolution of x [N, C, D1..Dk] with w [C, O / group, k1..kk] and optional b [O]: per image
    /// and group, columns [O/group · taps, input pixels] = W_gᵀ · X_g, then folded into Y_g (+ bias).
    /// </summary>
    internal static Tensor ConvTransposeNd(Tensor x, Tensor w, Tensor? b, SpatialAttributes.Axis[] axes, int group)
    {
        int channels = x.Shape[1], cg = channels / group, og = w.Shape[1], outChannels = og * group;
        var outputSpatial = axes.Select(a => a.Output).ToArray();
        var window = new ConvWindow(outputSpatial, x.Shape.AsSpan()[2..], axes);
        var y = Tensor.Empty([x.Shape[0], outChannels, .. outputSpatial]);
        int m = og * window.Taps, p = window.GridPixels, outLength = og * window.FieldPixels;
        int minChannels = Math.Max(1, ConvOps.MinUnfoldPerChunk / Math.Max(1, window.Taps * p));
        ConvOperands.ForEachImageGroup(x.Shape[0], group, item =>
        {
            int image = item / group, g = item % group, outStart = (image * outChannels + g * og) * window.FieldPixels;
            var output = y.Span.Slice(outStart, outLength);
            var bias = b is null ? default : b.Values;
            for (int o = 0; o < og; o++) output.Slice(o * window.FieldPixels, window.FieldPixels).Fill(bias.IsEmpty ? 0f : bias[g * og + o]);
            var input = x.Span.Slice((image * channels + g * cg) * p, cg * p);
            var weight = w.Span.Slice(g * cg * m, cg * m);
            if (window.IsIdentity)
            {
                Gemm.Sgemm(true, false, og, p, cg, 1f, weight, m, input, p, 1f, output, p);
                return;
            }
            float[] columns = TensorPool.Rent(m * p);
            Gemm.Sgemm(true, false, m, p, cg, 1f, weight, m, input, p, 0f, columns.AsSpan(0, m * p), p);
            Parallelism.For(og, (o0, o1) => window.FoldAdd(columns.AsSpan(0, m * p), y.Span.Slice(outStart, outLength), o0, o1), minChannels);
            TensorPool.Return(columns);
        });
        return y;
    }

    private static int[]? Counts(OnnxNodeContext node, string name, bool allowZero)
    {
        var values = node.Ints(name);
        if (values is null) return null;
        if (values.Any(v => v < (allowZero ? 0 : 1) || v > 1 << 24)) throw node.Invalid($"{name} [{string.Join(", ", values)}] has an out-of-range value");
        return values.Select(v => (int)v).ToArray();
    }

    private static void Check(string name, int[]? values, int expected)
    {
        if (values is not null && values.Length != expected) throw new ArgumentException($"{name} has {values.Length} values, the input needs {expected}");
    }
}
