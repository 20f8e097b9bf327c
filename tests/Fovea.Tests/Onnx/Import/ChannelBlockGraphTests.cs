using Fovea.Kernels;
using Fovea.Onnx;
using Fovea.Onnx.Import;

namespace Fovea.Tests.Onnx.Import;

/// <summary>
/// Activations kept in channel blocks between imported convs: which Conv nodes the rewrite lets write blocks (only
/// those read by convs alone, never a graph output), the reader geometry they carry, that a node writes blocks only where
/// it and its readers run in blocks at that batch, that a node handed blocks gives the bits of its op on planes (in
/// blocks or, where it cannot read them, converted), and that a graph with blocked edges gives the ops' bits run apart.
/// </summary>
public class ChannelBlockGraphTests
{
    /// <summary>
    /// SqueezeNet-like on <paramref name="size"/>² inputs: a strided stem with its ReLU and 3×3 stride-2 pool, a 1×1
    /// squeeze, a 3×3 expand, then a 1×1 classifier of 10 channels whose output is the graph's, and beside it a Relu that
    /// reads the expand too when <paramref name="sideReader"/>. Inputs of 11×11 leave 2×2 maps after the pool, where the
    /// classifier's 10 channels run on the channel-vectorised kernel too, and read the expand's blocks.
    /// </summary>
    private static byte[] Chain(bool sideReader, int size = 23)
    {
        var rng = new Rng(41);
        var g = new OnnxGraph(13);
        string Conv(string input, int o, int c, int k, int stride, int pad, bool relu)
        {
            using var w = Tensor.Normal(new TensorShape(o, c, k, k), 0f, 0.3f, rng);
            using var b = Tensor.Normal(new TensorShape(o), 0f, 0.3f, rng);
            string name = $"w{o}_{c}_{k}";
            string conv = g.Node("Conv", [input, g.Initializer(name, w.Span, o, c, k, k), g.Initializer("b" + name, b.Span, o)],
                new OnnxAttribute("kernel_shape", Ints: [k, k]), new OnnxAttribute("strides", Ints: [stride, stride]), new OnnxAttribute("pads", Ints: [pad, pad, pad, pad]));
            return relu ? g.Node("Relu", [conv]) : conv;
        }
        string stem = g.Node("MaxPool", [Conv("x", 32, 3, 3, 2, 0, true)], new OnnxAttribute("kernel_shape", Ints: [3, 3]), new OnnxAttribute("strides", Ints: [2, 2]));
        string expand = Conv(Conv(stem, 16, 32, 1, 1, 0, true), 64, 16, 3, 1, 1, true);
        string last = Conv(expand, 10, 64, 1, 1, 0, false);
        string output = sideReader ? g.Node("Add", [last, g.Node("ReduceMean", [g.Node("Relu", [expand])], new OnnxAttribute("axes", Ints: [1]), new OnnxAttribute("keepdims", Int: 1))]) : last;
        g.NamedNode("y", "Identity", [output]);
        int pooled = ((size - 3) / 2 + 1 - 3) / 2 + 1;
        return g.ToModel("x", [1, 3, size, size], "y", [1, 10, pooled, pooled]);
    }

    [Theory]
    [InlineData(false, 3)]
    [InlineData(true, 2)]
    public void OnlyConvsReadOnlyByConvsMayWriteBlocks(bool sideReader, int marked)
    {
        var model = OnnxModelReader.Read(Chain(sideReader));
        var graph = InferenceRewrite.Apply(model.Graph, 13);
        var convs = graph.Nodes.Where(n => n.OpType == "Conv").ToArray();
        Assert.Equal(4, convs.Length);
        Assert.Equal(marked, convs.Count(n => n.Attributes.ContainsKey(InferenceRewrite.BlockedOutput)));
        Assert.False(convs[^1].Attributes.ContainsKey(InferenceRewrite.BlockedOutput));
        Assert.Equal(sideReader, !convs[2].Attributes.ContainsKey(InferenceRewrite.BlockedOutput));
        // The stem carries its reader's geometry: 16 outputs, a 1×1 kernel, strides 1, no pads, dilations 1, not merged.
        Assert.Equal([16, 1, 1, 1, 1, 0, 0, 1, 1, 0], convs[0].Attributes[InferenceRewrite.BlockedOutput].Ints);
    }

    [Theory]
    [InlineData(32, 23)]
    [InlineData(1, 23)]
    [InlineData(3, 23)]
    [InlineData(32, 11)]  // 2×2 maps: the expand runs a position at a time, skipping its windows' padding; the classifier reads blocks
    public void AGraphWithBlockedEdgesGivesTheOpsBitsRunApart(int batch, int size)
    {
        var rewritten = OnnxModel.Load(Chain(false, size));
        using var x = Tensor.Normal(new TensorShape(batch, 3, size, size), 0f, 1f, new Rng(42));
        using var _ = Autograd.NoGrad();
        using var actual = rewritten.Forward(x);
        using var expected = OpByOp(x);
        Assert.Equal(expected.ToArray(), actual.ToArray());
    }

    /// <summary>The chain through <see cref="F.TryConv2dFused"/> (or the plain op) node by node, on planes.</summary>
    private static Tensor OpByOp(Tensor x)
    {
        var rng = new Rng(41);
        Tensor Conv(Tensor input, int o, int c, int k, int stride, int pad, ConvEpilogue epilogue)
        {
            using var w = Tensor.Normal(new TensorShape(o, c, k, k), 0f, 0.3f, rng);
            using var b = Tensor.Normal(new TensorShape(o), 0f, 0.3f, rng);
            return F.TryConv2dFused(null, input, w, b, (stride, stride), pad, (1, 1), 1, epilogue) ?? F.Conv2d(input, w, b, stride, pad);
        }
        using var stem = Conv(x, 32, 3, 3, 2, 0, new ConvEpilogue(true, false, Pool: new MaxPoolWindow((3, 3), (2, 2), (0, 0), (0, 0), false)));
        using var squeeze = Conv(stem, 16, 32, 1, 1, 0, new ConvEpilogue(true, false));
        using var expand = Conv(squeeze, 64, 16, 3, 1, 1, new ConvEpilogue(true, false));
        return Conv(expand, 10, 64, 1, 1, 0, new ConvEpilogue(false, false));
    }

    [Fact]
    public void ANodeWritesBlocksOnlyWhereItAndItsReadersRunInBlocksAtThatBatch()
    {
        // 32 → 64 3×3 on 6×6 maps, read by a 64 → 32 3×3 conv: at batch 4 (144 output pixels) both run on the
        // channel-vectorised kernel; at batch 2 (72) the reader's GEMM fills its tiles, so the output stays in planes.
        var conv = ConvKernel(64, 32, [32, 3, 3, 1, 1, 1, 1, 1, 1, 0]);
        using var w = Tensor.Normal(new TensorShape(64, 32, 3, 3), 0f, 0.3f, new Rng(1));
        using var _ = Autograd.NoGrad();
        foreach (var (batch, blocked) in new[] { (4, true), (2, false) })
        {
            using var x = Tensor.Normal(new TensorShape(batch, 32, 6, 6), 0f, 1f, new Rng(2));
            var y = conv([OnnxValue.Float(x), OnnxValue.Float(w)])[0];
            Assert.Equal(blocked, y.BlockedChannels == 64);
            Assert.Equal([batch, 64, 6, 6], y.Dims);
            using var planes = blocked ? F.FromChannelBlocks(y.Floats!, 64) : null;
            using var expected = F.Conv2d(x, w, null, 1, 1);
            Assert.Equal(expected.ToArray(), (planes ?? y.Floats!).ToArray());
            y.Floats!.Dispose();
        }
    }

    [Theory]
    [InlineData(1)]  // a group: the kernel does not run it, so the node converts the blocks and runs on planes
    [InlineData(2)]
    public void ANodeHandedBlocksGivesTheBitsOfItsOpOnPlanes(int group)
    {
        var conv = ConvKernel(32, 48 / group, null, group);
        using var w = Tensor.Normal(new TensorShape(32, 48 / group, 3, 3), 0f, 0.3f, new Rng(3));
        using var x = Tensor.Normal(new TensorShape(8, 48, 5, 5), 0f, 1f, new Rng(4));
        using var _ = Autograd.NoGrad();
        using var blocks = F.ToChannelBlocks(x);
        using var y = conv([OnnxValue.InChannelBlocks(blocks, 48), OnnxValue.Float(w)])[0].Floats!;
        using var expected = F.Conv2d(x, w, null, 1, 1, 1, group);
        Assert.Equal(expected.Shape, y.Shape);
        Assert.Equal(expected.ToArray(), y.ToArray());
        Assert.Equal(x.ToArray(), F.FromChannelBlocks(blocks, 48).ToArray());
    }

    [Fact]
    public void OnlyAConvReadsBlocks()
    {
        using var blocks = Tensor.Zeros(1, 1, 2, 2, 16);
        var e = Assert.Throws<InvalidOperationException>(() => OnnxValue.InChannelBlocks(blocks, 3).FloatData("input X"));
        Assert.Contains("[1, 3, 2, 2]", e.Message);
        Assert.Contains("channel blocks", e.Message);
    }

    /// <summary>A 3×3 Conv node with pads 1 and no bias, its output read in blocks by convs of <paramref name="readers"/>' geometry (null: none).</summary>
    private static OnnxKernel ConvKernel(int o, int c, long[]? readers, int group = 1)
    {
        var attributes = new List<OnnxAttributeProto>
        {
            new("kernel_shape", OnnxAttributeType.Ints, 0, 0, "", null, [], [3, 3], []),
            new("pads", OnnxAttributeType.Ints, 0, 0, "", null, [], [1, 1, 1, 1], []),
            new("group", OnnxAttributeType.Int, 0, group, "", null, [], [], []),
        };
        if (readers is not null) attributes.Add(new(InferenceRewrite.BlockedOutput, OnnxAttributeType.Ints, 0, 0, "", null, [], readers, []));
        var node = new OnnxNodeProto("conv", "Conv", "", ["x", "w"], ["y"], attributes.ToDictionary(a => a.Name));
        return OnnxOpRegistry.Create(new OnnxNodeContext(node, 13, _ => null));
    }
}
