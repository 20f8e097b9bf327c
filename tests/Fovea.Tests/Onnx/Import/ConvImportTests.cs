using Fovea.Onnx;
using Fovea.Onnx.Import;
using Fovea.Onnx.Import.Ops;
using Fovea.Tests.Support;
using Axis = Fovea.Onnx.Import.SpatialAttributes.Axis;

namespace Fovea.Tests.Onnx.Import;

/// <summary>
/// The imported Conv and ConvTranspose: the N-d kernels against naive loops on odd shapes (1-D, 2-D, 3-D, prime
/// sizes, strides, dilations, groups, asymmetric and negative pads), ConvTranspose as Conv's adjoint, the F.Conv2d
/// route of whole models, and errors that name the node.
/// </summary>
public class ConvImportTests
{
    public static TheoryData<int[], int[], int[], int[], int[], int[], int, int, int> ConvCases() => new()
    {
        // input spatial, kernel, strides, dilations, pad begins, pad ends, channels, out channels, group
        { [11], [3], [2], [1], [1], [2], 3, 5, 1 },
        { [13], [2], [1], [3], [0], [0], 4, 6, 2 },
        { [7, 5], [3, 2], [2, 1], [1, 2], [1, 0], [2, 1], 6, 9, 3 },
        { [5, 7], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0], 3, 2, 1 },
        { [5, 3, 7], [3, 1, 2], [1, 2, 3], [2, 1, 1], [2, 0, 1], [1, 1, 0], 4, 4, 4 },
        { [3, 5, 4], [2, 2, 2], [2, 1, 1], [1, 1, 2], [0, 1, 0], [1, 0, 1], 2, 3, 1 },
    };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void ConvNdMatchesNaiveLoop(int[] input, int[] kernel, int[] strides, int[] dilations, int[] begins, int[] ends, int channels, int outChannels, int group)
    {
        var rng = new Rng(7);
        var axes = ConvAxes(input, kernel, strides, dilations, begins, ends);
        var x = Randn(rng, [2, channels, .. input]);
        var w = Randn(rng, [outChannels, channels / group, .. kernel]);
        var b = Randn(rng, [outChannels]);
        TensorAssert.Close(NaiveConv(x, w, b, axes, group), ConvOps.ConvNd(x, w, b, axes, group), what: "conv with bias");
        TensorAssert.Close(NaiveConv(x, w, null, axes, group), ConvOps.ConvNd(x, w, null, axes, group), what: "conv without bias");
    }

    public static TheoryData<int[], int[], int[], int[], int[], int[], int[], int, int, int> TransposeCases() => new()
    {
        // input spatial, kernel, strides, dilations, pad begins, pad ends (negative: extend), output padding, channels, out channels, group
        { [5], [3], [2], [1], [1], [0], [1], 2, 3, 1 },
        { [7], [2], [3], [2], [0], [-2], [0], 4, 2, 2 },
        { [3, 5], [3, 2], [2, 3], [1, 2], [1, 0], [0, 2], [1, 0], 6, 3, 3 },
        { [4, 3], [1, 1], [1, 1], [1, 1], [0, 0], [0, 0], [0, 0], 3, 5, 1 },
        { [3, 2, 5], [2, 3, 1], [2, 1, 3], [1, 2, 1], [1, 0, 0], [0, 1, -1], [0, 0, 2], 4, 2, 2 },
    };

    [Theory]
    [MemberData(nameof(TransposeCases))]
    public void ConvTransposeNdMatchesNaiveLoop(int[] input, int[] kernel, int[] strides, int[] dilations, int[] begins, int[] ends, int[] outputPadding,
        int channels, int outChannels, int group)
    {
        var rng = new Rng(11);
        var axes = input.Select((size, i) =>
        {
            int output = strides[i] * (size - 1) + outputPadding[i] + dilations[i] * (kernel[i] - 1) + 1 - begins[i] - ends[i];
            return new Axis(kernel[i], strides[i], dilations[i], begins[i], ends[i], output);
        }).ToArray();
        var x = Randn(rng, [3, channels, .. input]);
        var w = Randn(rng, [channels, outChannels / group, .. kernel]);
        var b = Randn(rng, [outChannels]);
        TensorAssert.Close(NaiveConvTranspose(x, w, b, axes, group), ConvTransposeOps.ConvTransposeNd(x, w, b, axes, group), what: "conv-transpose with bias");
        TensorAssert.Close(NaiveConvTranspose(x, w, null, axes, group), ConvTransposeOps.ConvTransposeNd(x, w, null, axes, group), what: "conv-transpose without bias");
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void ConvTransposeIsTheAdjointOfConv(int[] input, int[] kernel, int[] strides, int[] dilations, int[] begins, int[] ends, int channels, int outChannels, int group)
    {
        // <Conv(x), y> = <x, ConvTranspose(y)> with the same weight, when the transposed output has x's size.
        var rng = new Rng(3);
        var axes = ConvAxes(input, kernel, strides, dilations, begins, ends);
        var transposed = axes.Select((a, i) => a with { PadEnd = strides[i] * (a.Output - 1) + dilations[i] * (kernel[i] - 1) + 1 - a.PadBegin - input[i], Output = input[i] }).ToArray();
        var x = Randn(rng, [1, channels, .. input]);
        var w = Randn(rng, [outChannels, channels / group, .. kernel]);
        var y = Randn(rng, [1, outChannels, .. axes.Select(a => a.Output)]);
        double left = Dot(ConvOps.ConvNd(x, w, null, axes, group), y), right = Dot(x, ConvTransposeOps.ConvTransposeNd(y, w, null, transposed, group));
        Assert.Equal(left, right, 1e-3 * Math.Max(1, Math.Abs(left)));
    }

    [Theory]
    [InlineData(new long[] { 1, 3, 11 }, new long[] { 4, 3, 3 }, new long[] { 2 }, new long[] { 1 }, new long[] { 0, 2 }, 1)]
    [InlineData(new long[] { 2, 4, 7, 6 }, new long[] { 6, 2, 3, 2 }, new long[] { 2, 1 }, new long[] { 1, 2 }, new long[] { 1, 0, 2, 1 }, 2)]
    [InlineData(new long[] { 1, 3, 5, 5 }, new long[] { 3, 1, 3, 3 }, new long[] { 1, 1 }, new long[] { 1, 1 }, new long[] { 1, 1, 1, 1 }, 3)]
    public void ModelsTakeTheConv2dRouteWithTheSameResult(long[] inputDims, long[] weightDims, long[] strides, long[] dilations, long[] pads, int group)
    {
        // 1-D and 2-D Conv nodes run through F.Pad + F.Conv2d; they must agree with the N-d kernel.
        var rng = new Rng(5);
        var w = Randn(rng, weightDims.Select(d => (int)d).ToArray());
        var b = Randn(rng, [(int)weightDims[0]]);
        var graph = new OnnxGraph(13);
        string y = graph.NamedNode("y", "Conv", ["x", graph.Initializer("w", w.Span, weightDims), graph.Initializer("b", b.Span, weightDims[0])],
            new OnnxAttribute("strides", Ints: strides), new OnnxAttribute("dilations", Ints: dilations), new OnnxAttribute("pads", Ints: pads),
            new OnnxAttribute("group", Int: group));
        int n = strides.Length;
        var input = inputDims.Skip(2).Select(d => (int)d).ToArray();
        var axes = ConvAxes(input, w.Shape.ToArray()[2..], strides.Select(s => (int)s).ToArray(), dilations.Select(d => (int)d).ToArray(),
            pads.Take(n).Select(p => (int)p).ToArray(), pads.Skip(n).Select(p => (int)p).ToArray());
        var model = OnnxModel.Load(graph.ToModel("x", inputDims, y, [inputDims[0], weightDims[0], .. axes.Select(a => (long)a.Output)]));
        var x = Randn(rng, inputDims.Select(d => (int)d).ToArray());
        TensorAssert.Close(NaiveConv(x, w, b, axes, group), model.Forward(x), what: "model output");
    }

    [Fact]
    public void WeightChannelsThatDoNotMatchTheInputNameTheNode()
    {
        var graph = new OnnxGraph(13);
        string y = graph.NamedNode("y", "Conv", ["x", graph.Initializer("w", new float[2 * 3 * 3 * 3], 2, 3, 3, 3)], new OnnxAttribute("group", Int: 2));
        var model = OnnxModel.Load(graph.ToModel("x", [1, 4, 5, 5], y, [1, 2, 3, 3]));
        var e = Assert.Throws<InvalidDataException>(() => model.Forward(Tensor.Zeros(1, 4, 5, 5)));
        Assert.Contains("Conv node 'y'", e.Message);
        Assert.Contains("input X [1, 4, 5, 5] has 4 channels, weight W [2, 3, 3, 3] expects 6", e.Message);
    }

    [Fact]
    public void ConstantWeightsThatDoNotFitTheGroupFailAtLoad()
    {
        var graph = new OnnxGraph(13);
        string y = graph.NamedNode("y", "ConvTranspose", ["x", graph.Initializer("w", new float[3 * 2 * 2 * 2], 3, 2, 2, 2)], new OnnxAttribute("group", Int: 2));
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(graph.ToModel("x", [1, 3, 4, 4], y, [1, 4, 5, 5])));
        Assert.Contains("ConvTranspose node 'y'", e.Message);
        Assert.Contains("weight W [3, 2, 2, 2] has 3 input channels, not a multiple of group 2", e.Message);
    }

    [Fact]
    public void KernelShapeMustMatchTheWeight()
    {
        var graph = new OnnxGraph(13);
        string y = graph.NamedNode("y", "Conv", ["x", graph.Initializer("w", new float[2 * 3 * 3 * 3], 2, 3, 3, 3)], new OnnxAttribute("kernel_shape", Ints: [3, 2]));
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(graph.ToModel("x", [1, 3, 5, 5], y, [1, 2, 3, 4])));
        Assert.Contains("Conv node 'y'", e.Message);
        Assert.Contains("kernel_shape [3, 2] differs from the spatial sizes of weight W [2, 3, 3, 3]", e.Message);
    }

    [Fact]
    public void AMissingWeightFailsAtLoad()
    {
        var graph = new OnnxGraph(13);
        string y = graph.NamedNode("y", "Conv", ["x"]);
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(graph.ToModel("x", [1, 3, 5], y, [1, 2, 5])));
        Assert.Contains("Conv node 'y' (opset 13): needs an input X and a weight W", e.Message);
    }

    [Fact]
    public void AnUnknownAttributeIsReported()
    {
        var graph = new OnnxGraph(13);
        string y = graph.NamedNode("y", "Conv", ["x", graph.Initializer("w", new float[2 * 3], 2, 3, 1)], new OnnxAttribute("winograd", Int: 1));
        var e = Assert.Throws<NotSupportedException>(() => OnnxModel.Load(graph.ToModel("x", [1, 3, 5], y, [1, 2, 5])));
        Assert.Contains("attribute 'winograd' is not supported", e.Message);
    }

    private static Axis[] ConvAxes(int[] input, int[] kernel, int[] strides, int[] dilations, int[] begins, int[] ends) =>
        input.Select((size, i) =>
        {
            int span = dilations[i] * (kernel[i] - 1) + 1;
            return new Axis(kernel[i], strides[i], dilations[i], begins[i], ends[i], (size + begins[i] + ends[i] - span) / strides[i] + 1);
        }).ToArray();

    /// <summary>y[n, o, q] = b[o] + Σ x[n, g·C/g + c, q·s + k·d − pad] · w[o, c, k], straight from the definition.</summary>
    private static Tensor NaiveConv(Tensor x, Tensor w, Tensor? b, Axis[] axes, int group)
    {
        int batch = x.Shape[0], channels = x.Shape[1], outChannels = w.Shape[0], cg = channels / group, og = outChannels / group;
        int[] input = x.Shape.ToArray()[2..], kernel = w.Shape.ToArray()[2..], output = axes.Select(a => a.Output).ToArray();
        var y = Tensor.Zeros([batch, outChannels, .. output]);
        float[] xs = x.ToArray(), ws = w.ToArray();
        var ys = y.Span;
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < outChannels; o++)
                foreach (var q in Positions(output))
                {
                    double sum = b?.Span[o] ?? 0;
                    for (int c = 0; c < cg; c++)
                        foreach (var k in Positions(kernel))
                        {
                            var at = q.Select((qi, i) => qi * axes[i].Stride + k[i] * axes[i].Dilation - axes[i].PadBegin).ToArray();
                            if (at.Where((a, i) => a < 0 || a >= input[i]).Any()) continue;
                            sum += xs[Flat([n, (o / og) * cg + c, .. at], x.Shape.ToArray())] * ws[Flat([o, c, .. k], w.Shape.ToArray())];
                        }
                    ys[Flat([n, o, .. q], y.Shape.ToArray())] = (float)sum;
                }
        return y;
    }

    /// <summary>y[n, g·O/g + o, i·s + k·d − pad] += x[n, g·C/g + c, i] · w[g·C/g + c, o, k] (+ b), dropping what falls outside.</summary>
    private static Tensor NaiveConvTranspose(Tensor x, Tensor w, Tensor? b, Axis[] axes, int group)
    {
        int batch = x.Shape[0], channels = x.Shape[1], og = w.Shape[1], cg = channels / group;
        int[] input = x.Shape.ToArray()[2..], kernel = w.Shape.ToArray()[2..], output = axes.Select(a => a.Output).ToArray();
        var y = Tensor.Zeros([batch, og * group, .. output]);
        float[] xs = x.ToArray(), ws = w.ToArray();
        var ys = y.Span;
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < channels; c++)
                for (int o = 0; o < og; o++)
                    foreach (var i in Positions(input))
                        foreach (var k in Positions(kernel))
                        {
                            var at = i.Select((ii, a) => ii * axes[a].Stride + k[a] * axes[a].Dilation - axes[a].PadBegin).ToArray();
                            if (at.Where((p, a) => p < 0 || p >= output[a]).Any()) continue;
                            ys[Flat([n, (c / cg) * og + o, .. at], y.Shape.ToArray())] += xs[Flat([n, c, .. i], x.Shape.ToArray())] * ws[Flat([c, o, .. k], w.Shape.ToArray())];
                        }
        if (b is not null)
            for (int n = 0; n < batch; n++)
                foreach (var q in Positions(output))
                    for (int o = 0; o < og * group; o++) ys[Flat([n, o, .. q], y.Shape.ToArray())] += b.Span[o];
        return y;
    }

    private static Tensor Randn(Rng rng, int[] dims) => Tensor.Normal(new TensorShape(dims), 0, 1, rng);

    private static IEnumerable<int[]> Positions(int[] dims)
    {
        var at = new int[dims.Length];
        for (long count = dims.Aggregate(1L, (p, d) => p * d); count > 0; count--)
        {
            yield return (int[])at.Clone();
            for (int a = dims.Length - 1; a >= 0 && ++at[a] == dims[a]; a--) at[a] = 0;
        }
    }

    private static int Flat(int[] index, int[] dims) => index.Select((v, i) => (v, i)).Aggregate(0, (flat, e) => flat * dims[e.i] + e.v);

    private static double Dot(Tensor a, Tensor b) => a.ToArray().Zip(b.ToArray(), (p, q) => (double)p * q).Sum();
}
