using Fovea.Onnx;
using Fovea.Onnx.Import;
using Fovea.Onnx.Import.Ops;
using Fovea.Tests.Support;

namespace Fovea.Tests.Onnx.Import;

/// <summary>
/// The imported pools and normalisations: the N-d pool kernel and whole MaxPool/AveragePool nodes against a
/// naive loop written from the ONNX spec, on odd shapes; the global pools at ranks the opset-1 backend tests
/// cannot reach; and load/run errors that name the node.
/// </summary>
public class PoolNormImportTests
{
    /// <summary>A pooling: input [N, C, …], kernel, strides, dilations, pads (begins, then ends), ceil_mode.</summary>
    public sealed record PoolCase(int[] Input, int[] Kernel, int[] Strides, int[] Dilations, int[] Pads, bool Ceil)
    {
        public override string ToString() => $"x{TensorShape.Format(Input)} k{TensorShape.Format(Kernel)} s{TensorShape.Format(Strides)} " +
            $"d{TensorShape.Format(Dilations)} p{TensorShape.Format(Pads)}{(Ceil ? " ceil" : "")}";
    }

    public static TheoryData<PoolCase> Cases() =>
    [
        new([2, 3, 13], [4], [3], [2], [1, 3], false),
        new([1, 2, 11], [3], [2], [1], [0, 1], true),
        new([1, 3, 7, 11], [3, 2], [2, 3], [1, 2], [2, 0, 1, 3], true),
        new([2, 1, 5, 5], [5, 5], [1, 1], [1, 1], [2, 2, 2, 2], false),
        new([1, 2, 13, 7], [3, 3], [2, 2], [1, 1], [1, 1, 1, 1], true),
        new([1, 2, 11, 13], [3, 5], [2, 3], [2, 1], [1, 2, 1, 2], false),
        new([1, 2, 5, 7, 3], [2, 3, 2], [2, 1, 2], [2, 1, 1], [1, 0, 1, 0, 2, 1], true),
        // End-heavy padding, as PyTorch exports ceil_mode before opset 10: MaxPool runs as F's ceil mode.
        new([2, 3, 23, 23], [3, 3], [2, 2], [1, 1], [0, 0, 1, 1], false),
        new([1, 2, 24, 24], [3, 3], [2, 2], [1, 1], [0, 0, 1, 1], false),
        new([1, 1, 9, 8], [3, 3], [2, 2], [1, 1], [1, 1, 2, 2], false),
        // Windows of padding only: the first output row and the last column see no input.
        new([1, 1, 3, 3], [2, 2], [1, 1], [1, 1], [2, 0, 0, 2], false),
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void KernelMatchesNaiveLoop(PoolCase c)
    {
        var x = Tensor.Normal(c.Input, 0, 1, new Rng(7));
        var axes = NaiveGeometry(c);
        var windows = PoolWindows.Create(c.Input, axes);
        int[] outDims = [c.Input[0], c.Input[1], .. axes.Select(a => a.Output)];
        foreach (bool columnMajor in new[] { false, true })
        {
            var y = Tensor.Empty(outDims);
            var indices = new long[y.Length];
            PoolKernel.Max<float>(x.Span, y.Span, indices, columnMajor, windows);
            var (expected, expectedIndices) = NaiveMax(x, c, axes, columnMajor);
            TensorAssert.Equal(expected, y, "max");
            Assert.Equal(expectedIndices, indices);
        }
        foreach (bool countIncludePad in new[] { false, true })
        {
            var y = Tensor.Empty(outDims);
            PoolKernel.Average(x.Span, y.Span, countIncludePad, windows);
            TensorAssert.Close(NaiveAverage(x, c, axes, countIncludePad), y, what: $"average (count_include_pad {countIncludePad})");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void NodesMatchNaiveLoop(PoolCase c)
    {
        var x = Tensor.Normal(c.Input, 0, 1, new Rng(11));
        var axes = NaiveGeometry(c);
        var attributes = new List<OnnxAttribute>
        {
            new("kernel_shape", Ints: [.. c.Kernel.Select(k => (long)k)]), new("strides", Ints: [.. c.Strides.Select(s => (long)s)]),
            new("dilations", Ints: [.. c.Dilations.Select(d => (long)d)]), new("pads", Ints: [.. c.Pads.Select(p => (long)p)]),
            new("ceil_mode", Int: c.Ceil ? 1 : 0),
        };
        var max = Run(x, "MaxPool", [.. attributes]);
        TensorAssert.Equal(NaiveMax(x, c, axes, columnMajor: false).Values, max, "MaxPool");
        if (c.Dilations.Any(d => d != 1)) return;  // AveragePool dilations arrive only in opset 19
        foreach (int include in new[] { 0, 1 })
        {
            var average = Run(x, "AveragePool", [.. attributes.Where(a => a.Name != "dilations"), new("count_include_pad", Int: include)]);
            TensorAssert.Close(NaiveAverage(x, c, axes, include == 1), average, what: $"AveragePool (count_include_pad {include})");
        }
    }

    [Fact]
    public void KernelGivesTheSameBitsOnAnyThreadCount()
    {
        var c = new PoolCase([3, 5, 9, 8, 7], [3, 2, 3], [2, 1, 2], [1, 2, 1], [1, 0, 2, 1, 1, 0], true);
        var x = Tensor.Normal(c.Input, 0, 1, new Rng(3));
        var windows = PoolWindows.Create(c.Input, NaiveGeometry(c));
        Tensor Average(int threads)
        {
            using var _ = Parallelism.UseThreads(threads);
            var y = Tensor.Empty([3, 5, .. windows.OutDims]);
            PoolKernel.Average(x.Span, y.Span, countIncludePad: true, windows);
            return y;
        }
        TensorAssert.Equal(Average(1), Average(2));
    }

    [Theory]
    [InlineData(new[] { 2, 3, 7 })]
    [InlineData(new[] { 1, 2, 5, 3 })]
    [InlineData(new[] { 2, 2, 3, 1, 5 })]
    [InlineData(new[] { 2, 3, 1, 1 })] // planes of one element: the input passes through
    [InlineData(new[] { 3, 2, 1 })]
    public void GlobalPoolsReduceEverySpatialAxis(int[] dims)
    {
        var x = Tensor.Normal(dims, 0, 1, new Rng(5));
        int planes = dims[0] * dims[1], plane = x.Length / planes;
        var mean = Tensor.Empty(planes);
        var max = Tensor.Empty(planes);
        for (int p = 0; p < planes; p++)
        {
            var values = x.Span.Slice(p * plane, plane);
            mean.Span[p] = values.ToArray().Sum() / plane;
            max.Span[p] = values.ToArray().Max();
        }
        int[] outDims = [dims[0], dims[1], .. Enumerable.Repeat(1, dims.Length - 2)];
        TensorAssert.Close(F.Reshape(mean, outDims), Run(x, "GlobalAveragePool"), what: "GlobalAveragePool");
        TensorAssert.Equal(F.Reshape(max, outDims), Run(x, "GlobalMaxPool"), "GlobalMaxPool");
    }

    [Fact]
    public void InstanceNormalizationNormalisesEachPlaneThenScales()
    {
        var x = Tensor.Normal(new TensorShape(3, 2, 4, 5), 1, 2, new Rng(9));
        float[] scale = [0.5f, -2f], bias = [1f, 0.25f];
        var graph = new OnnxGraph(13);
        graph.NamedNode("y", "InstanceNormalization", ["x", graph.Initializer("scale", scale, 2), graph.Initializer("b", bias, 2)], new OnnxAttribute("epsilon", Float: 0.01f));
        var y = OnnxModel.Load(graph.ToModel("x", [3, 2, 4, 5], "y", [3, 2, 4, 5])).Forward(x);
        var expected = Tensor.Empty(x.Shape);
        for (int p = 0; p < 6; p++)
        {
            var plane = x.Span.Slice(p * 20, 20).ToArray();
            double m = plane.Average(), v = plane.Select(a => (a - m) * (a - m)).Average();
            for (int i = 0; i < 20; i++) expected.Span[p * 20 + i] = (float)((plane[i] - m) / Math.Sqrt(v + 0.01) * scale[p % 2] + bias[p % 2]);
        }
        TensorAssert.Close(expected, y);
    }

    [Fact]
    public void PlainTwoDimensionalGraphsStayTrainable()
    {
        var graph = new OnnxGraph(13);
        float[] ones = [1f, 1f], halves = [0.5f, 0.5f];
        string bn = graph.Node("BatchNormalization", ["x", graph.Initializer("gamma", ones, 2), graph.Initializer("beta", halves, 2),
            graph.Initializer("mean", halves, 2), graph.Initializer("var", ones, 2)]);
        string instance = graph.Node("InstanceNormalization", [bn, graph.Initializer("scale", ones, 2), graph.Initializer("bias", halves, 2)]);
        string max = graph.Node("MaxPool", [instance], new OnnxAttribute("kernel_shape", Ints: [3, 3]), new OnnxAttribute("pads", Ints: [1, 1, 1, 1]));
        graph.NamedNode("y", "AveragePool", [max], new OnnxAttribute("kernel_shape", Ints: [2, 2]), new OnnxAttribute("strides", Ints: [2, 2]));
        var model = OnnxModel.Load(graph.ToModel("x", [2, 2, 6, 6], "y", [2, 2, 3, 3]));
        var x = Tensor.Normal(new TensorShape(2, 2, 6, 6), 0, 1, new Rng(1));
        x.RequiresGrad = true;
        F.Sum(model.Forward(x)).Backward();
        Assert.NotNull(x.Grad);
        Assert.All(model.NamedParameters(), p => Assert.True(p.Parameter.Grad is not null, $"{p.Name} has no gradient"));
        Assert.Equal(["mean", "var"], model.NamedBuffers().Select(b => b.Name).Order());
    }

    [Fact]
    public void AMissingKernelShapeNamesTheNode()
    {
        var e = Assert.Throws<InvalidDataException>(() => Load("MaxPool", [1, 1, 4, 4], new OnnxAttribute("strides", Ints: [2, 2])));
        Assert.Contains("MaxPool node 'maxpool_0' (opset 13): kernel_shape is required", e.Message);
    }

    [Fact]
    public void AnUnknownAttributeIsUnsupported()
    {
        var e = Assert.Throws<NotSupportedException>(() => Load("AveragePool", [1, 1, 4, 4], new OnnxAttribute("kernel_shape", Ints: [2, 2]), new OnnxAttribute("flavour", Int: 1)));
        Assert.Contains("AveragePool node 'averagepool_0' (opset 13): attribute 'flavour' is not supported", e.Message);
    }

    [Fact]
    public void AnInputOfTheWrongRankNamesTheNodeAndShapes()
    {
        var model = Load("MaxPool", [1, 2, 9], new OnnxAttribute("kernel_shape", Ints: [3, 3]));
        var e = Assert.Throws<InvalidDataException>(() => model.Forward(Tensor.Zeros(1, 2, 9)));
        Assert.Contains("MaxPool node 'maxpool_0' (opset 13): kernel_shape [3, 3] expects input [N, C, 2 spatial sizes], received [1, 2, 9]", e.Message);
    }

    [Fact]
    public void AWindowThatDoesNotFitNamesTheNode()
    {
        var model = Load("AveragePool", [1, 1, 3, 3], new OnnxAttribute("kernel_shape", Ints: [5, 2]));
        var e = Assert.Throws<InvalidDataException>(() => model.Forward(Tensor.Zeros(1, 1, 3, 3)));
        Assert.Contains("AveragePool node 'averagepool_0' (opset 13): the window of size 5 along spatial axis 0 does not fit input 3", e.Message);
    }

    [Fact]
    public void LrnWithoutSizeAndPerActivationBatchNormAreRefused()
    {
        var lrn = Assert.Throws<InvalidDataException>(() => Load("LRN", [1, 3, 2, 2]));
        Assert.Contains("LRN node 'lrn_0' (opset 13): size must be a positive number of channels, received 0", lrn.Message);
        var graph = new OnnxGraph(7);
        var stats = Enumerable.Range(0, 4).Select(i => graph.Initializer($"s{i}", [1f, 1f], 2)).ToArray();
        graph.NamedNode("y", "BatchNormalization", ["x", .. stats], new OnnxAttribute("spatial", Int: 0));
        var bn = Assert.Throws<NotSupportedException>(() => OnnxModel.Load(graph.ToModel("x", [1, 2, 3], "y", [1, 2, 3])));
        Assert.Contains("BatchNormalization node 'y' (opset 7): spatial=0", bn.Message);
    }

    private static OnnxModel Load(string op, int[] inputDims, params OnnxAttribute[] attributes)
    {
        var graph = new OnnxGraph(13);
        string y = graph.Node(op, ["x"], attributes);
        long[] dims = [.. inputDims.Select(d => (long)d)];
        return OnnxModel.Load(graph.ToModel("x", dims, y, dims));
    }

    private static Tensor Run(Tensor x, string op, params OnnxAttribute[] attributes)
    {
        var graph = new OnnxGraph(13);
        string y = graph.Node(op, ["x"], attributes);
        long[] dims = [.. x.Shape.ToArray().Select(d => (long)d)];
        // The output's declared shape is not checked; the input's is.
        using var _ = Autograd.NoGrad();
        return OnnxModel.Load(graph.ToModel("x", dims, y, dims)).Forward(x);
    }

    /// <summary>The ONNX spec's output size: ⌊ or ⌈(in + pads − dilated kernel)/stride⌉ + 1, a last ceil window never starting in the end padding.</summary>
    private static SpatialAttributes.Axis[] NaiveGeometry(PoolCase c)
    {
        int rank = c.Kernel.Length;
        var axes = new SpatialAttributes.Axis[rank];
        for (int a = 0; a < rank; a++)
        {
            int input = c.Input[a + 2], begin = c.Pads[a], end = c.Pads[a + rank], span = c.Dilations[a] * (c.Kernel[a] - 1) + 1;
            double slides = (input + begin + end - span) / (double)c.Strides[a];
            int output = (int)(c.Ceil ? Math.Ceiling(slides) : Math.Floor(slides)) + 1;
            if (c.Ceil && (output - 1) * c.Strides[a] >= input + begin) output--;
            axes[a] = new SpatialAttributes.Axis(c.Kernel[a], c.Strides[a], c.Dilations[a], begin, end, output);
        }
        return axes;
    }

    /// <summary>
    /// Every (plane, output, tap) in row-major order: the tap's input position per axis, whether it lies in
    /// the input, and whether it lies in input + padding.
    /// </summary>
    private static IEnumerable<(int Plane, int Output, int[] Position, bool Inside, bool Padded)> Taps(PoolCase c, SpatialAttributes.Axis[] axes)
    {
        int rank = axes.Length, planes = c.Input[0] * c.Input[1];
        int outputs = axes.Aggregate(1, (p, a) => p * a.Output), taps = c.Kernel.Aggregate(1, (p, k) => p * k);
        for (int p = 0; p < planes; p++)
            for (int o = 0; o < outputs; o++)
                for (int t = 0; t < taps; t++)
                {
                    var position = new int[rank];
                    bool inside = true, padded = true;
                    for (int a = rank - 1, oRest = o, tRest = t; a >= 0; a--)
                    {
                        int oa = oRest % axes[a].Output, ka = tRest % c.Kernel[a];
                        oRest /= axes[a].Output;
                        tRest /= c.Kernel[a];
                        position[a] = oa * c.Strides[a] - c.Pads[a] + ka * c.Dilations[a];
                        inside &= position[a] >= 0 && position[a] < c.Input[a + 2];
                        padded &= position[a] < c.Input[a + 2] + c.Pads[a + rank];
                    }
                    yield return (p, o, position, inside, padded);
                }
    }

    private static (Tensor Values, long[] Indices) NaiveMax(Tensor x, PoolCase c, SpatialAttributes.Axis[] axes, bool columnMajor)
    {
        var y = Tensor.Full(new TensorShape([c.Input[0], c.Input[1], .. axes.Select(a => a.Output)]), float.MinValue);
        var indices = Enumerable.Repeat(-1L, y.Length).ToArray();
        int outputs = y.Length / (c.Input[0] * c.Input[1]);
        var spatial = c.Input[2..];
        int plane = spatial.Aggregate(1, (p, d) => p * d);
        foreach (var (p, o, position, inside, _) in Taps(c, axes))
        {
            if (!inside) continue;
            int rowMajor = 0, colMajor = 0;
            for (int a = 0; a < spatial.Length; a++) rowMajor = rowMajor * spatial[a] + position[a];
            for (int a = spatial.Length - 1; a >= 0; a--) colMajor = colMajor * spatial[a] + position[a];
            float v = x.Span[p * plane + rowMajor];
            if (v > y.Span[p * outputs + o])
            {
                y.Span[p * outputs + o] = v;
                indices[p * outputs + o] = p * plane + (columnMajor ? colMajor : rowMajor);
            }
        }
        return (y, indices);
    }

    private static Tensor NaiveAverage(Tensor x, PoolCase c, SpatialAttributes.Axis[] axes, bool countIncludePad)
    {
        var y = Tensor.Zeros([c.Input[0], c.Input[1], .. axes.Select(a => a.Output)]);
        var counts = new int[y.Length];
        int outputs = y.Length / (c.Input[0] * c.Input[1]);
        var spatial = c.Input[2..];
        int plane = spatial.Aggregate(1, (p, d) => p * d);
        foreach (var (p, o, position, inside, padded) in Taps(c, axes))
        {
            if (inside)
            {
                int rowMajor = 0;
                for (int a = 0; a < spatial.Length; a++) rowMajor = rowMajor * spatial[a] + position[a];
                y.Span[p * outputs + o] += x.Span[p * plane + rowMajor];
            }
            if (countIncludePad ? padded : inside) counts[p * outputs + o]++;
        }
        for (int i = 0; i < y.Length; i++) y.Span[i] = counts[i] == 0 ? 0 : y.Span[i] / counts[i];
        return y;
    }
}
