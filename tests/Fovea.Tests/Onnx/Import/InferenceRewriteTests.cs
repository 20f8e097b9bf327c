using Fovea.Nn;
using Fovea.Onnx;
using Fovea.Onnx.Import;
using Fovea.Tests.Support;

namespace Fovea.Tests.Onnx.Import;

/// <summary>
/// Loaded for inference, Conv → Relu (→ 2×2 MaxPool) and Conv → Add (→ Relu) chains run as one fused convolution,
/// bitwise equal to the separate ops, and a chain the fused kernel cannot take (a strided conv) still computes the same.
/// </summary>
public class InferenceRewriteTests
{
    [Theory]
    [InlineData(1, 1)]  // stride-1 conv: the fused epilogue
    [InlineData(2, 1)]  // stride-2 conv: conv, then ReLU and pooling as separate ops
    [InlineData(1, 0)]  // padding 0, odd output size: the pool floors
    public void ConvReluMaxPoolChainsComputeTheSeparateOps(int stride, int pad)
    {
        var rng = new Rng(3);
        using var w = Tensor.Normal(new TensorShape(6, 3, 3, 3), 0f, 0.3f, rng);
        using var b = Tensor.Normal(new TensorShape(6), 0f, 0.3f, rng);
        var g = new OnnxGraph(13);
        string conv = g.Node("Conv", ["x", g.Initializer("w", w.Span, 6, 3, 3, 3), g.Initializer("b", b.Span, 6)],
            new OnnxAttribute("kernel_shape", Ints: [3, 3]), new OnnxAttribute("strides", Ints: [stride, stride]), new OnnxAttribute("pads", Ints: [pad, pad, pad, pad]));
        string relu = g.Node("Relu", [conv]);
        g.NamedNode("y", "MaxPool", [relu], new OnnxAttribute("kernel_shape", Ints: [2, 2]), new OnnxAttribute("strides", Ints: [2, 2]));
        byte[] bytes = g.ToModel("x", [1, 3, 11, 13], "y", [1, 6, 1, 1]);
        using var x = Tensor.Normal(new TensorShape(2, 3, 11, 13), 0f, 1f, new Rng(4));
        var (expected, actual) = RunBothWays(bytes, 1, 3, x);
        Assert.Equal(expected, actual);
    }

    /// <summary>
    /// Conv → Relu → a MaxPool other than the plain 2×2 (SqueezeNet's 3×3 stride-2 pool, written by opset 9 as padding
    /// at the end, and ResNet's padded one in ceil mode) runs as one node with the separate ops' values, where the
    /// channel-vectorised kernel takes the conv and, with 8 output channels, where the node runs the ops itself.
    /// </summary>
    [Theory]
    [InlineData(64, new long[] { 0, 0, 1, 1 }, 0)]
    [InlineData(16, new long[] { 1, 1, 1, 1 }, 1)]
    [InlineData(8, new long[] { 0, 0, 1, 1 }, 0)]
    [InlineData(8, new long[] { 1, 1, 1, 1 }, 1)]
    [InlineData(64, new long[] { 0, 1, 2, 1 }, 0)] // more padding at the end than F's ceil mode would add: −∞ borders
    [InlineData(8, new long[] { 0, 1, 2, 1 }, 0)]
    public void ConvReluAndAnyMaxPoolRunAsOneNode(int channels, long[] pads, int ceil)
    {
        var rng = new Rng(15);
        using var w = Tensor.Normal(new TensorShape(channels, 3, 3, 3), 0f, 0.3f, rng);
        var g = new OnnxGraph(13);
        string conv = g.Node("Conv", ["x", g.Initializer("w", w.Span, channels, 3, 3, 3)], new OnnxAttribute("kernel_shape", Ints: [3, 3]), new OnnxAttribute("strides", Ints: [2, 2]));
        g.NamedNode("y", "MaxPool", [g.Node("Relu", [conv])], new OnnxAttribute("kernel_shape", Ints: [3, 3]), new OnnxAttribute("strides", Ints: [2, 2]),
            new OnnxAttribute("pads", Ints: pads), new OnnxAttribute("ceil_mode", Int: ceil));
        byte[] bytes = g.ToModel("x", [1, 3, 19, 19], "y", [1, channels, 5, 5]);
        using var x = Tensor.Normal(new TensorShape(3, 3, 19, 19), 0f, 1f, new Rng(16));
        var (expected, actual) = RunBothWays(bytes, 1, 3, x);
        Assert.Equal(expected, actual);
    }

    /// <summary>
    /// A ResNet block's end, Conv → Add(shortcut) (→ Relu), runs as one conv that adds the shortcut as it stores, bitwise
    /// equal to the separate ops: the shortcut the block's input or a 1×1 projection listed after the conv (the fused node
    /// moves to the Add's place), either operand of the Add, with and without the Relu, on maps the fused kernel takes
    /// and ones it does not, where the node runs the three ops itself.
    /// </summary>
    [Theory]
    [InlineData(6, 5, 16, true, false, false)]   // two images a tile group: tiles across images
    [InlineData(1, 14, 16, true, true, false)]   // a single image in bands
    [InlineData(1, 5, 40, false, false, false)]  // a partial block of channels
    [InlineData(1, 13, 40, true, false, false)]  // a single image, the plane's last tile partial
    [InlineData(1, 8, 40, true, true, false)]    // 64 output pixels: the GEMM's, so three ops in the node
    [InlineData(2, 5, 16, true, false, true)]    // a shortcut that broadcasts: three ops in the node
    public void ConvAddReluComputesTheSeparateOps(int batch, int size, int channels, bool relu, bool shortcutFirst, bool broadcastShortcut)
    {
        var rng = new Rng(9);
        using var w1 = Tensor.Normal(new TensorShape(channels, 16, 3, 3), 0f, 0.2f, rng);
        using var w2 = Tensor.Normal(new TensorShape(channels, channels, 3, 3), 0f, 0.1f, rng);
        using var b2 = Tensor.Normal(new TensorShape(channels), 0f, 0.3f, rng);
        using var projection = Tensor.Normal(new TensorShape(channels, 16, 1, 1), 0f, 0.3f, rng);
        using var offsets = Tensor.Normal(new TensorShape(1, channels, 1, 1), 0f, 1f, rng);
        var g = new OnnxGraph(13);
        var same = new[] { new OnnxAttribute("kernel_shape", Ints: [3, 3]), new OnnxAttribute("pads", Ints: [1, 1, 1, 1]) };
        string first = g.Node("Relu", [g.Node("Conv", ["x", g.Initializer("w1", w1.Span, channels, 16, 3, 3)], same)]);
        string conv = g.Node("Conv", [first, g.Initializer("w2", w2.Span, channels, channels, 3, 3), g.Initializer("b2", b2.Span, channels)], same);
        string shortcut = broadcastShortcut ? g.Initializer("offsets", offsets.Span, 1, channels, 1, 1)
            : channels == 16 ? "x" : g.Node("Conv", ["x", g.Initializer("p", projection.Span, channels, 16, 1, 1)], new OnnxAttribute("kernel_shape", Ints: [1, 1]));
        string[] operands = shortcutFirst ? [shortcut, conv] : [conv, shortcut];
        if (relu) g.NamedNode("y", "Relu", [g.Node("Add", operands)]);
        else g.NamedNode("y", "Add", operands);
        byte[] bytes = g.ToModel("x", [1, 16, size, size], "y", [1, channels, size, size]);
        int projected = channels == 16 || broadcastShortcut ? 0 : 1;
        using var x = Tensor.Normal(new TensorShape(batch, 16, size, size), 0f, 1f, new Rng(10));
        x.Span[7] = float.NaN; // propagates through both paths alike
        var (expected, actual) = RunBothWays(bytes, 2 + projected, 4 + projected + (relu ? 1 : 0), x);
        Assert.Equal(expected, actual);
        if (relu) Assert.Contains(0f, actual);
    }

    /// <summary>
    /// A Fire module's expands, a 1×1 and a 3×3 conv of the squeeze's output each with its ReLU, read alone by a Concat
    /// along channels, run as one 3×3 conv writing the Concat's output (the 1×1 weights at the centre taps), with the
    /// separate ops' values: either order, with and without biases (one passed through an Identity, as torch.onnx writes
    /// equal initialisers once), on 11×11, 5×5 and 2×2 maps. An infinite input stays where the 1×1 conv puts it.
    /// </summary>
    [Theory]
    [InlineData(2, 11, 16, 64, 64, true, true, false)]
    [InlineData(1, 5, 32, 64, 128, false, true, false)]
    [InlineData(3, 2, 48, 64, 64, true, false, false)]
    [InlineData(2, 11, 16, 64, 64, true, true, true)]  // then SqueezeNet's pool, fused too
    [InlineData(1, 11, 16, 64, 64, false, false, true)] // a single image split between threads: the pool runs after the merged conv
    public void FireExpandsMergeIntoOneConv(int batch, int size, int squeeze, int e1, int e3, bool oneByOneFirst, bool biases, bool pooled)
    {
        var rng = new Rng(11);
        using var ws = Tensor.Normal(new TensorShape(squeeze, 8, 1, 1), 0f, 0.4f, rng);
        using var w1 = Tensor.Normal(new TensorShape(e1, squeeze, 1, 1), 0f, 0.3f, rng);
        using var w3 = Tensor.Normal(new TensorShape(e3, squeeze, 3, 3), 0f, 0.1f, rng);
        using var b1 = Tensor.Normal(new TensorShape(e1), 0f, 0.3f, rng);
        using var b3 = Tensor.Normal(new TensorShape(e3), 0f, 0.3f, rng);
        var g = new OnnxGraph(13);
        var oneByOne = new OnnxAttribute("kernel_shape", Ints: [1, 1]);
        string s = g.Node("Relu", [g.Node("Conv", ["x", g.Initializer("ws", ws.Span, squeeze, 8, 1, 1)], oneByOne)]);
        string b1Name = biases ? g.Node("Identity", [g.Initializer("b1", b1.Span, e1)]) : "";
        string[] inputs1 = biases ? [s, g.Initializer("w1", w1.Span, e1, squeeze, 1, 1), b1Name] : [s, g.Initializer("w1", w1.Span, e1, squeeze, 1, 1)];
        string[] inputs3 = biases ? [s, g.Initializer("w3", w3.Span, e3, squeeze, 3, 3), g.Initializer("b3", b3.Span, e3)] : [s, g.Initializer("w3", w3.Span, e3, squeeze, 3, 3)];
        string expand1 = g.Node("Relu", [g.Node("Conv", inputs1, oneByOne, new OnnxAttribute("pads", Ints: [0, 0, 0, 0]))]);
        string expand3 = g.Node("Relu", [g.Node("Conv", inputs3, new OnnxAttribute("kernel_shape", Ints: [3, 3]), new OnnxAttribute("pads", Ints: [1, 1, 1, 1]))]);
        string[] branches = oneByOneFirst ? [expand1, expand3] : [expand3, expand1];
        var axis = new OnnxAttribute("axis", Int: 1);
        if (pooled)
            g.NamedNode("y", "MaxPool", [g.Node("Concat", branches, axis)], new OnnxAttribute("kernel_shape", Ints: [3, 3]),
                new OnnxAttribute("strides", Ints: [2, 2]), new OnnxAttribute("pads", Ints: [0, 0, 1, 1]));
        else g.NamedNode("y", "Concat", branches, axis);
        byte[] bytes = g.ToModel("x", [1, 8, size, size], "y", [1, e1 + e3, size, size]);
        using var x = Tensor.Normal(new TensorShape(batch, 8, size, size), 0f, 1f, new Rng(12));
        // Rewritten: the squeeze and the merged expands (the Identity bypassed too, and the pool merged).
        var (expected, actual) = RunBothWays(bytes, 2, 7 + (biases ? 1 : 0) + (pooled ? 1 : 0), x);
        TensorAssert.Close(expected, actual, 1e-5, 1e-5, "merged expands");
    }

    /// <summary>
    /// An Identity of an initialiser (how torch.onnx passes copies of an equal initialiser) is bypassed: its readers read
    /// the initialiser, with the same bits, so later passes see the constant (here the batch norm folds into the conv).
    /// One whose output is a graph output stays.
    /// </summary>
    [Fact]
    public void IdentitiesOfInitialisersAreBypassed()
    {
        var rng = new Rng(13);
        using var w = Tensor.Normal(new TensorShape(4, 3, 3, 3), 0f, 0.3f, rng);
        using var scale = Tensor.Normal(new TensorShape(4), 1f, 0.1f, rng);
        var g = new OnnxGraph(13);
        string weight = g.Node("Identity", [g.Initializer("w", w.Span, 4, 3, 3, 3)]);
        string conv = g.Node("Conv", ["x", weight], new OnnxAttribute("kernel_shape", Ints: [3, 3]), new OnnxAttribute("pads", Ints: [1, 1, 1, 1]));
        string gamma = g.Node("Identity", [g.Initializer("gamma", scale.Span, 4)]);
        string zeros = g.Initializer("zeros", new float[4], 4), ones = g.Initializer("ones", [1f, 1f, 1f, 1f], 4);
        g.NamedNode("y", "BatchNormalization", [conv, gamma, zeros, zeros, ones]);
        byte[] bytes = g.ToModel("x", [1, 3, 5, 5], "y", [1, 4, 5, 5]);
        using var x = Tensor.Normal(new TensorShape(2, 3, 5, 5), 0f, 1f, new Rng(14));
        var (expected, actual) = RunBothWays(bytes, 1, 4, x);
        TensorAssert.Close(expected, actual, 1e-6, 1e-6, "bypassed identities");

        var output = new OnnxGraph(13);
        output.NamedNode("y", "Identity", [output.Initializer("c", [1f, 2f], 2)]);
        var constant = OnnxModel.Load(output.ToModel("x", [1], "y", [2]));
        Assert.Contains("1 nodes", constant.ToString());
    }

    /// <summary>Expands with different activations, or a Concat along another axis, stay separate nodes.</summary>
    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 0)]
    public void BranchesThatDifferAreNotMerged(bool sameActivation, int axis)
    {
        var w1 = new float[16 * 4];
        var w3 = new float[16 * 4 * 9];
        w1.AsSpan().Fill(0.25f);
        w3.AsSpan().Fill(0.125f);
        var g = new OnnxGraph(13);
        string expand1 = g.Node("Relu", [g.Node("Conv", ["x", g.Initializer("w1", w1, 16, 4, 1, 1)], new OnnxAttribute("kernel_shape", Ints: [1, 1]))]);
        string conv3 = g.Node("Conv", ["x", g.Initializer("w3", w3, 16, 4, 3, 3)], new OnnxAttribute("kernel_shape", Ints: [3, 3]), new OnnxAttribute("pads", Ints: [1, 1, 1, 1]));
        string expand3 = sameActivation ? g.Node("Relu", [conv3]) : conv3;
        g.NamedNode("y", "Concat", [expand1, expand3], new OnnxAttribute("axis", Int: axis));
        var model = OnnxModel.Load(g.ToModel("x", [2, 4, 5, 5], "y", axis == 1 ? [2, 32, 5, 5] : [4, 16, 5, 5]));
        Assert.Contains("3 nodes", model.ToString());
    }

    /// <summary>A Clip with constant bounds (ReLU6 as exporters write it) merges into the Conv before it, bitwise: bounds as initialisers (opset 13), absent, or attributes (opset 6).</summary>
    [Theory]
    [InlineData(13, true, true)]
    [InlineData(13, false, true)]
    [InlineData(13, true, false)]
    [InlineData(6, true, true)]
    public void ConvClipComputesTheSeparateOps(int opset, bool withMin, bool withMax)
    {
        var rng = new Rng(5);
        using var w = Tensor.Normal(new TensorShape(4, 3, 3, 3), 0f, 0.5f, rng);
        var g = new OnnxGraph(opset);
        string conv = g.Node("Conv", ["x", g.Initializer("w", w.Span, 4, 3, 3, 3)],
            new OnnxAttribute("kernel_shape", Ints: [3, 3]), new OnnxAttribute("strides", Ints: [2, 2]), new OnnxAttribute("pads", Ints: [1, 1, 1, 1]));
        if (opset < 11)
            g.NamedNode("y", "Clip", [conv], [.. withMin ? [new OnnxAttribute("min", Float: -0.25f)] : Array.Empty<OnnxAttribute>(), .. withMax ? [new OnnxAttribute("max", Float: 0.5f)] : Array.Empty<OnnxAttribute>()]);
        else
            g.NamedNode("y", "Clip", [conv, withMin ? g.Initializer("lo", [-0.25f]) : "", .. withMax ? [g.Initializer("hi", [0.5f])] : Array.Empty<string>()]);
        byte[] bytes = g.ToModel("x", [1, 3, 9, 7], "y", [1, 4, 5, 4]);
        using var x = Tensor.Normal(new TensorShape(2, 3, 9, 7), 0f, 1f, new Rng(6));
        var (expected, actual) = RunBothWays(bytes, 1, 2, x);
        Assert.Equal(expected, actual);
        // The bounds bite.
        if (withMin) Assert.Contains(-0.25f, actual);
        if (withMax) Assert.Contains(0.5f, actual);
    }

    /// <summary>A Clip whose bound is computed, not constant, stays a node of its own.</summary>
    [Fact]
    public void AClipWithAComputedBoundIsNotFused()
    {
        var w = new float[2 * 2 * 1 * 1];
        w.AsSpan().Fill(0.5f);
        var g = new OnnxGraph(13);
        string conv = g.Node("Conv", ["x", g.Initializer("w", w, 2, 2, 1, 1)], new OnnxAttribute("kernel_shape", Ints: [1, 1]));
        string bound = g.Node("Sub", [g.Initializer("one", [1f]), g.Initializer("two", [2f])]);
        g.NamedNode("y", "Clip", [conv, bound]);
        var model = OnnxModel.Load(g.ToModel("x", [1, 2, 3, 3], "y", [1, 2, 3, 3]));
        Assert.Contains("3 nodes", model.ToString());
    }

    /// <summary>A Relu whose input another node also reads, or that is a graph output, stays a node of its own.</summary>
    [Fact]
    public void AReluWithOtherReadersIsNotFused()
    {
        var w = new float[2 * 2 * 1 * 1];
        w.AsSpan().Fill(0.5f);
        var g = new OnnxGraph(13);
        string conv = g.Node("Conv", ["x", g.Initializer("w", w, 2, 2, 1, 1)], new OnnxAttribute("kernel_shape", Ints: [1, 1]));
        string relu = g.Node("Relu", [conv]);
        g.NamedNode("y", "Add", [relu, conv]);
        var model = OnnxModel.Load(g.ToModel("x", [1, 2, 3, 3], "y", [1, 2, 3, 3]));
        Assert.Contains("3 nodes", model.ToString());
        using var _ = Autograd.NoGrad();
        using var x = Tensor.Full(new TensorShape(1, 2, 3, 3), -1f);
        using var y = model.Forward(x);
        Assert.All(y.ToArray(), v => Assert.Equal(-1f, v)); // relu(-1) + (-1)
    }

    /// <summary>An exported Fovea CNN, loaded for inference, gives Fovea's own inference logits bit for bit (both fuse the same way).</summary>
    [Theory]
    [InlineData("cnn-small")]
    [InlineData("lenet5")]
    public void AnExportedCnnLoadedForInferenceMatchesFoveaExactly(string name)
    {
        var model = Zoo.Create(name, 1, 28, 28, rng: new Rng(4));
        var imported = OnnxModel.Load(OnnxExporter.ToBytes(model, 1, 28, 28), name);
        using var input = Tensor.Normal(new TensorShape(3, 1, 28, 28), 0f, 1f, new Rng(8));
        using var _ = model.Inference();
        using var __ = imported.Inference();
        using var expected = model.Forward(input);
        using var actual = imported.Forward(input);
        Assert.Equal(expected.ToArray(), actual.ToArray());
    }

    /// <summary>
    /// The model loaded for inference (rewritten: <paramref name="fusedNodes"/> nodes) and for training (as written:
    /// <paramref name="plainNodes"/>), each run on <paramref name="x"/> without gradients: (as written, rewritten).
    /// </summary>
    private static (float[] Expected, float[] Actual) RunBothWays(byte[] bytes, int fusedNodes, int plainNodes, Tensor x)
    {
        var fused = OnnxModel.Load(bytes);
        var plain = OnnxModel.Load(bytes, forTraining: true);
        Assert.Contains($"{fusedNodes} nodes", fused.ToString());
        Assert.Contains($"{plainNodes} nodes", plain.ToString());
        using var _ = Autograd.NoGrad();
        using var expected = plain.Forward(x);
        using var actual = fused.Forward(x);
        Assert.Equal(expected.Shape, actual.Shape);
        return (expected.ToArray(), actual.ToArray());
    }
}
