using Fovea.Kernels;
using Fovea.Nn;

namespace Fovea.Analysis;

/// <summary>
/// The cost of one layer from its arguments and its input shape alone, with no tensor allocated, so that
/// a 4096×4096 image costs no more to analyse than a 28×28 one. One rule per layer kind; the shape rules
/// are the ones the layers' ops apply (ConvGeometry, PoolGeometry), so they validate the same way.
/// <para>Saved for backward, per kind (what each backward formula reads): Conv2d, LocallyConnected2d and
/// Linear their input (for the weight gradient); ReLU, Sigmoid, Tanh, Softmax and LogSoftmax their output;
/// LeakyReLU, ELU and GELU their input; MaxPool2d an int32 argmax per output; BatchNorm its input and a
/// mean and 1/σ per channel; Dropout a float mask per element; average pooling, padding and Flatten nothing.</para>
/// </summary>
internal static class LayerRules
{
    private const int Bytes = LayerCost.BytesPerValue;

    /// <summary>The cost of <paramref name="layer"/> on <paramref name="input"/>, whose receptive field is <paramref name="field"/> (null once it has none); the layer's own field comes from <see cref="ReceptiveField.Through"/>.</summary>
    public static LayerCost Of(string name, Module layer, TensorShape input, ReceptiveField? field) => Rule(name, layer, input) with
    {
        ReceptiveField = field is null || input.Rank != 4 ? null : field.Through(layer, input[2], input[3]),
    };

    private static LayerCost Rule(string name, Module layer, TensorShape input) => layer switch
    {
        Conv2d conv => Convolution(name, conv, input),
        LocallyConnected2d lc => LocallyConnected(name, lc, input),
        Linear linear => Dense(name, linear, input),
        BatchNormBase bn => BatchNorm(name, bn, input),
        ReLU or Sigmoid or Tanh or Softmax or LogSoftmax => Pointwise(name, layer, input, SavedForBackward.TheOutput),
        LeakyReLU or ELU or GELU => Pointwise(name, layer, input, SavedForBackward.TheInput),
        Dropout => Pointwise(name, layer, input, new SavedForBackward(false, false, (long)input.Length * Bytes, "a float mask per element")),
        MaxPool2d pool => Pool(name, layer, input, PoolGeometry.Create(nameof(MaxPool2d), input.AsSpan(), pool.KernelSize, pool.Stride, pool.Padding, pool.Dilation, pool.CeilMode),
            g => new SavedForBackward(false, false, (long)g.Planes * g.OutH * g.OutW * sizeof(int), "argmax, an int32 per output")),
        AvgPool2d pool => Pool(name, layer, input, PoolGeometry.Create(nameof(AvgPool2d), input.AsSpan(), pool.KernelSize, pool.Stride, pool.Padding, (1, 1), pool.CeilMode, pool.CountIncludePad),
            _ => SavedForBackward.Nothing),
        GlobalAvgPool2d => Global(name, layer, input, (1, 1)),
        AdaptiveAvgPool2d adaptive => Global(name, layer, input, adaptive.OutputSize),
        ConstantPad2d pad => Pad(name, pad, input),
        Flatten flatten => Reshape(name, flatten, input),
        BasicBlock block => Residual(name, block, input),
        _ => throw new ArgumentException($"CostModel has no rule for {layer.GetType().Name}; it knows Fovea's layers (Conv2d, Linear, pooling, normalisation, activations, Flatten, padding, BasicBlock)."),
    };

    private static LayerCost Row(string name, Module layer, TensorShape input, TensorShape output, long parameters, long macs, SavedForBackward saved) => new()
    {
        Name = name, Kind = layer.GetType().Name, Layer = layer.ToString(), InputShape = input, OutputShape = output,
        Parameters = parameters, Macs = macs, Saved = saved, ReceptiveField = null, // set by Of, from the layer kind
    };

    private static LayerCost Convolution(string name, Conv2d conv, TensorShape input)
    {
        var (g, twins) = ConvolutionGeometry(name, conv, input);
        return Row(name, conv, input, Image(g.OutputShape), twins.Parameters, twins.Macs, SavedForBackward.TheInput)
            with { Convolutions = [twins] };
    }

    private static (ConvGeometry Geometry, ConvTwins Twins) ConvolutionGeometry(string name, Conv2d conv, TensorShape input)
    {
        var g = ConvGeometry.Of(conv.ToString(), input, conv.InChannels, conv.OutChannels, conv.KernelSize, conv.Stride, conv.Padding, conv.Dilation, conv.Groups);
        return (g, new ConvTwins(name, conv.ToString(), input, Image(g.OutputShape), conv.Groups, g.KernelHeight, g.KernelWidth, conv.Bias is not null));
    }

    /// <summary>Unshared weights fix the input size at construction; another size is costed as the same layer rebuilt for it.</summary>
    private static LayerCost LocallyConnected(string name, LocallyConnected2d lc, TensorShape input)
    {
        var g = ConvGeometry.Of(lc.ToString(), input, lc.InChannels, lc.OutChannels, lc.KernelSize, lc.Stride, lc.Padding, lc.Dilation);
        bool fits = (g.InHeight, g.InWidth) == lc.InputSize;
        long weights = checked((long)g.OutPixels * g.OutChannels * g.WindowLength);
        long bias = lc.Bias is null ? 0 : (long)g.OutChannels * g.OutPixels;
        return Row(name, lc, input, Image(g.OutputShape), checked(weights + bias), weights, SavedForBackward.TheInput) with
        {
            // Described, not built: rebuilt for a megapixel image its weights would not fit in memory.
            Layer = fits ? lc.ToString() : lc.ToString().Replace($"in={lc.InputSize.Height}×{lc.InputSize.Width}", $"in={g.InHeight}×{g.InWidth}", StringComparison.Ordinal),
            SizeMismatch = fits ? null : $"{lc} is built for {lc.InputSize.Height}×{lc.InputSize.Width} inputs, received {input}",
        };
    }

    private static LayerCost Dense(string name, Linear linear, TensorShape input)
    {
        if (input.Rank != 2)
            throw new ArgumentException($"{linear}: expected input [N, {linear.InFeatures}], received {input}");
        long inFeatures = input[1], outFeatures = linear.OutFeatures;
        bool fits = inFeatures == linear.InFeatures;
        long weights = checked(inFeatures * outFeatures);
        return Row(name, linear, input, new TensorShape(1, linear.OutFeatures), checked(weights + (linear.Bias is null ? 0 : outFeatures)), weights, SavedForBackward.TheInput) with
        {
            Layer = fits ? linear.ToString() : $"Linear({inFeatures}→{outFeatures})",
            SizeMismatch = fits ? null : $"{linear}: expected input [N, {linear.InFeatures}], received {input}",
        };
    }

    private static LayerCost BatchNorm(string name, BatchNormBase bn, TensorShape input)
    {
        bool rankFits = bn is BatchNorm2d ? input.Rank == 4 : input.Rank is 2 or 3;
        if (!rankFits || input[1] != bn.NumFeatures)
            throw new ArgumentException($"{bn}: expected input with {bn.NumFeatures} channels ({(bn is BatchNorm2d ? "[N, C, H, W]" : "[N, C] or [N, C, L]")}), received {input}");
        long parameters = bn.Affine ? 2L * bn.NumFeatures : 0;
        return Row(name, bn, input, input, parameters, 0, new SavedForBackward(true, false, 2L * bn.NumFeatures * Bytes, "input, and a mean and 1/σ per channel"));
    }

    private static LayerCost Pointwise(string name, Module layer, TensorShape input, SavedForBackward saved) =>
        Row(name, layer, input, input, 0, 0, saved);

    private static LayerCost Pool(string name, Module layer, TensorShape input, PoolGeometry g, Func<PoolGeometry, SavedForBackward> saved) =>
        Row(name, layer, input, new TensorShape(1, input[1], g.OutH, g.OutW), 0, 0, saved(g));

    private static LayerCost Global(string name, Module layer, TensorShape input, (int H, int W) output)
    {
        if (input.Rank != 4) throw new ArgumentException($"{layer}: expected input [N, C, H, W], received {input}");
        return Row(name, layer, input, new TensorShape(1, input[1], output.H, output.W), 0, 0, SavedForBackward.Nothing);
    }

    private static LayerCost Pad(string name, ConstantPad2d pad, TensorShape input)
    {
        if (input.Rank < 2) throw new ArgumentException($"{pad}: expected at least 2 dimensions, received {input}");
        int left = pad.Padding[0], right = pad.Padding[1], top = pad.Padding[2], bottom = pad.Padding[3];
        int[] dims = input.ToArray();
        dims[^2] += top + bottom;
        dims[^1] += left + right;
        if (dims[^2] <= 0 || dims[^1] <= 0) throw new ArgumentException($"{pad}: cropping more than the input {input}");
        return Row(name, pad, input, new TensorShape(dims), 0, 0, SavedForBackward.Nothing);
    }

    private static LayerCost Reshape(string name, Flatten flatten, TensorShape input)
    {
        int rank = Math.Max(1, input.Rank);
        int start = flatten.StartDim < 0 ? flatten.StartDim + rank : flatten.StartDim;
        int end = flatten.EndDim < 0 ? flatten.EndDim + rank : flatten.EndDim;
        if (start < 0 || end >= rank || start > end)
            throw new ArgumentException($"{flatten}: invalid dimensions for input {input}");
        int[] dims = input.ToArray();
        var output = new TensorShape([.. dims[..start], input.Product(start, end + 1), .. dims[(end + 1)..]]);
        return Row(name, flatten, input, output, 0, 0, SavedForBackward.Nothing);
    }

    /// <summary>
    /// conv1-BN-ReLU-conv2-BN plus the shortcut (a 1×1 strided conv-BN when the shape changes), then ReLU,
    /// as one row. Backward keeps the block's input (conv1, shortcut conv) and output (ReLU), conv1's and
    /// conv2's outputs (their BNs), the first ReLU's output (conv2), the shortcut conv's output (its BN) and
    /// each BN's statistics; the sum keeps nothing.
    /// </summary>
    private static LayerCost Residual(string name, BasicBlock block, TensorShape input)
    {
        var convs = block.NamedModules().Where(m => m.Module is Conv2d).Select(m => (Name: Join(name, m.Name), Conv: (Conv2d)m.Module)).ToList();
        var norms = block.NamedModules().Select(m => m.Module).OfType<BatchNormBase>().ToList();
        var conv1 = ConvolutionGeometry(convs[0].Name, convs[0].Conv, input).Twins;
        var conv2 = ConvolutionGeometry(convs[1].Name, convs[1].Conv, conv1.Output).Twins;
        var twins = new List<ConvTwins> { conv1, conv2 };
        if (convs.Count > 2) twins.Add(ConvolutionGeometry(convs[2].Name, convs[2].Conv, input).Twins);
        long outputBytes = (long)conv2.Output.Length * Bytes;
        long intermediates = (twins.Count + 1) * outputBytes;
        long statistics = norms.Sum(n => 2L * n.NumFeatures * Bytes);
        return Row(name, block, input, conv2.Output,
            checked(twins.Sum(t => t.Parameters) + norms.Sum(n => n.Affine ? 2L * n.NumFeatures : 0)),
            checked(twins.Sum(t => t.Macs)),
            new SavedForBackward(true, true, intermediates + statistics, $"input, output, {twins.Count + 1} intermediate maps and BN statistics")) with { Convolutions = twins };
    }

    /// <summary>One image of a batch shape: [1, …].</summary>
    private static TensorShape Image(TensorShape batch)
    {
        int[] dims = batch.ToArray();
        dims[0] = 1;
        return new TensorShape(dims);
    }

    public static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;
}
