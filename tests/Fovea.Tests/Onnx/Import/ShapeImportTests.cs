using Fovea.Onnx;
using Fovea.Onnx.Import;
using Fovea.Onnx.Import.Ops;
using Fovea.Tests.Support;

namespace Fovea.Tests.Onnx.Import;

/// <summary>The shape ops of the importer: Reshape's 0/-1 rules, Transpose and Pad against naive loops, Cast, the exporter glue, and errors.</summary>
public class ShapeImportTests
{
    [Theory]
    [InlineData(new[] { 2, 3, 4 }, new long[] { 0, -1 }, false, new[] { 2, 12 })]
    [InlineData(new[] { 2, 3, 4 }, new long[] { -1, 0, 2 }, false, new[] { 4, 3, 2 })]
    [InlineData(new[] { 2, 3, 4 }, new long[] { 1, 0, -1 }, false, new[] { 1, 3, 8 })]
    [InlineData(new[] { 0, 3, 4 }, new long[] { 3, 4, 0 }, true, new[] { 3, 4, 0 })]
    [InlineData(new[] { 5 }, new long[] { }, false, null)]
    [InlineData(new[] { 1 }, new long[] { }, false, new int[0])]
    public void ReshapeCopiesZerosUnlessAllowzeroAndInfersMinusOne(int[] input, long[] shape, bool allowZero, int[]? expected)
    {
        if (expected is null) Assert.Throws<ArgumentException>(() => ReshapeOps.ResolveShape(input, shape, allowZero));
        else Assert.Equal(expected, ReshapeOps.ResolveShape(input, shape, allowZero));
    }

    [Theory]
    [InlineData(new long[] { -1, -1 })]      // two inferred dimensions
    [InlineData(new long[] { 2, 0, 0, 0 })]  // a 0 past the input's rank
    [InlineData(new long[] { 0, -1 })]       // with allowzero=1 semantics below, 0·x = 24 has no solution
    [InlineData(new long[] { 5, -1 })]
    [InlineData(new long[] { -2, 12 })]
    public void ReshapeRejectsShapesThatCannotHoldTheInput(long[] shape)
    {
        var e = Assert.Throws<ArgumentException>(() => ReshapeOps.ResolveShape([2, 3, 4], shape, allowZero: shape.SequenceEqual([0L, -1])));
        Assert.Contains("cannot reshape [2, 3, 4] (24 elements)", e.Message);
    }

    public static TheoryData<int[], int[]> Permutations() => new()
    {
        { [7, 5], [1, 0] },
        { [3, 1, 5, 7], [2, 0, 3, 1] },
        { [2, 3, 5, 1, 4], [4, 3, 0, 2, 1] },
        { [2, 3, 5, 7], [0, 1, 3, 2] },
        { [2, 3, 5, 7], [2, 3, 0, 1] },  // merges into a 2-D transpose
        { [1, 1, 1], [2, 0, 1] },
        { [2, 3, 0, 5], [3, 2, 1, 0] },
        { [2, 3, 3, 13, 17], [0, 1, 3, 2, 4] },  // PixelShuffle's pattern, large enough to run in chunks
        { [2, 41, 37, 29], [0, 3, 1, 2] },       // NCHW → NHWC, odd and prime, in chunks
    };

    [Theory]
    [MemberData(nameof(Permutations))]
    public void TransposeMatchesANaiveLoop(int[] dims, int[] perm)
    {
        var outDims = perm.Select(a => dims[a]).ToArray();
        var inStrides = Strides(dims);
        int Source(int[] o) => perm.Select((a, i) => o[i] * inStrides[a]).Sum();
        using var x = Tensor.Normal(new TensorShape(dims), 0f, 1f, new Rng(3));
        var floats = TransposeOps.Permute(OnnxValue.Float(x), perm).Floats!;
        TensorAssert.Equal(Naive(x.ToArray(), outDims, Source, 0f), floats);
        var xi = Integers(x);
        var integers = TransposeOps.Permute(xi, perm);
        Assert.Equal(outDims, integers.Dims);
        Assert.Equal(Naive(xi, outDims, Source, 0f), integers.Integers!);
    }

    public static TheoryData<int[], long[], string> Pads() => new()
    {
        { [3, 5], [1, 2, 3, 4], "constant" },
        { [3, 5], [1, 2, 3, 4], "reflect" },
        { [3, 5], [1, 2, 3, 4], "edge" },
        { [3, 5], [1, 7, 3, 11], "wrap" },
        { [2, 3, 7, 5], [0, 0, 3, 1, 0, 0, 4, 2], "reflect" },   // PyTorch's ReflectionPad2d export
        { [2, 3, 7, 5], [0, 1, -2, 3, 1, 0, 2, -1], "constant" }, // negative pads crop
        { [2, 3, 7, 5], [0, 1, -2, 3, 1, 0, 2, -1], "edge" },
        { [2, 1, 4], [0, 2, 9, 0, 1, 10], "reflect" },           // pads past the size keep bouncing; a size-1 axis repeats
        { [5], [2, 0], "edge" },
        { [3, 37, 41], [1, 2, 3, 4, 5, 6], "reflect" },          // large enough to run in chunks
    };

    [Theory]
    [MemberData(nameof(Pads))]
    public void PadMatchesANaiveLoop(int[] dims, long[] pads, string modeName)
    {
        var mode = Enum.Parse<PadMode>(modeName, ignoreCase: true);
        int rank = dims.Length;
        var outDims = dims.Select((d, i) => d + (int)(pads[i] + pads[rank + i])).ToArray();
        var strides = Strides(dims);
        int Source(int[] o)
        {
            int s = 0;
            for (int d = 0; d < rank; d++)
            {
                int i = o[d] - (int)pads[d], n = dims[d];
                if (mode == PadMode.Constant && (i < 0 || i >= n)) return -1;
                if (mode == PadMode.Edge) i = Math.Clamp(i, 0, n - 1);
                if (mode == PadMode.Wrap) i = ((i % n) + n) % n;
                while (mode == PadMode.Reflect && (i < 0 || i >= n)) i = n == 1 ? 0 : i < 0 ? -i : 2 * (n - 1) - i;
                s += i * strides[d];
            }
            return s;
        }
        using var x = Tensor.Normal(new TensorShape(dims), 0f, 1f, new Rng(5));
        var floats = PadOps.Pad(OnnxValue.Float(x), pads, mode, 2.5).Floats!;
        TensorAssert.Equal(Naive(x.ToArray(), outDims, Source, 2.5f), floats);
        var xi = Integers(x);
        var integers = PadOps.Pad(xi, pads, mode, 2.5); // an integer constant truncates to 2
        Assert.Equal(Naive(xi, outDims, Source, 2f), integers.Integers!);
    }

    [Fact]
    public void CastTruncatesTowardZeroWrapsIntegersAndTestsBoolsAgainstZero()
    {
        using var x = Tensor.FromArray([-2.7f, -0.5f, 0f, 0.9f, 255.5f, 300f], 6);
        Assert.Equal([-2L, 0, 0, 0, 255, 300], CastOps.Convert(OnnxValue.Float(x), OnnxDataType.Int32).Integers!);
        Assert.Equal([1L, 1, 0, 1, 1, 1], CastOps.Convert(OnnxValue.Float(x), OnnxDataType.Bool).Integers!);
        var wide = OnnxValue.Int64s(-1, 128, 256, 70000);
        Assert.Equal([-1L, -128, 0, 112], CastOps.Convert(wide, OnnxDataType.Int8).Integers!);
        Assert.Equal([255L, 128, 0, 112], CastOps.Convert(wide, OnnxDataType.UInt8).Integers!);
        Assert.Equal([-1f, 128f, 256f, 70000f], CastOps.Convert(wide, OnnxDataType.Float).Floats!.ToArray());
        Assert.Same(wide, CastOps.Convert(wide, OnnxDataType.Int64));
    }

    /// <summary>torch.onnx's flatten of a dynamic batch: Shape → Gather(0) → Unsqueeze → Concat([N], [-1]) → Reshape.</summary>
    [Fact]
    public void ExporterGlueReshapesADynamicBatch()
    {
        var g = new OnnxGraph(13);
        string shape = g.Node("Shape", ["x"]);
        string zero = g.Node("Constant", [], new OnnxAttribute("value_int", Int: 0));
        string batch = g.Node("Gather", [shape, zero], new OnnxAttribute("axis", Int: 0));
        string batch1 = g.Node("Unsqueeze", [batch, g.Int64Initializer("axes", 0)]);
        string target = g.Node("Concat", [batch1, g.Int64Initializer("rest", -1)], new OnnxAttribute("axis", Int: 0));
        g.NamedNode("y", "Reshape", ["x", target]);
        var model = OnnxModel.Load(g.ToModel("x", [1, 3, 5], "y", [1, 15]));
        foreach (int n in new[] { 1, 4 })
        {
            using var x = Tensor.Normal(new TensorShape(n, 3, 5), 0f, 1f, new Rng((ulong)n));
            using var y = model.Forward(x);
            Assert.Equal(new TensorShape(n, 15), y.Shape);
            Assert.Equal(x.ToArray(), y.ToArray());
        }
    }

    [Fact]
    public void FloatReshapeConcatAndConstantPadStayTrainable()
    {
        var g = new OnnxGraph(13);
        string flat = g.Node("Flatten", ["x"], new OnnxAttribute("axis", Int: 1));
        string padded = g.Node("Pad", [flat, g.Int64Initializer("pads", 0, 1, 0, 2)]);
        g.NamedNode("y", "Concat", [padded, flat], new OnnxAttribute("axis", Int: 1));
        var model = OnnxModel.Load(g.ToModel("x", [1, 2, 3], "y", [1, 15]));
        using var x = Tensor.Normal(new TensorShape(2, 2, 3), 0f, 1f, new Rng(1));
        x.RequiresGrad = true;
        using var y = model.Forward(x);
        Assert.Equal(new TensorShape(2, 15), y.Shape);
        y.Backward(Tensor.Ones(2, 15));
        Assert.All(x.Grad!.ToArray(), v => Assert.Equal(2f, v)); // each element reaches y twice
    }

    [Fact]
    public void ReshapeErrorsNameTheNodeAndTheShapes()
    {
        var g = new OnnxGraph(13);
        g.NamedNode("y", "Reshape", ["x", g.Int64Initializer("shape", 3, -1)]);
        var model = OnnxModel.Load(g.ToModel("x", [1, 10], "y", [3, 4]));
        using var x = Tensor.Zeros(1, 10);
        var e = Assert.Throws<InvalidDataException>(() => model.Forward(x));
        Assert.Contains("Reshape node 'y' (opset 13)", e.Message);
        Assert.Contains("cannot reshape [1, 10] (10 elements) to [3, -1]", e.Message);
    }

    [Fact]
    public void GatherTakesScalarAndNegativeIndicesAndRejectsOutOfRange()
    {
        var g = new OnnxGraph(13);
        string shape = g.Node("Shape", ["x"]);
        g.NamedNode("y", "Gather", [shape, g.Int64Initializer("index", -1, 1)]);
        var model = OnnxModel.Load(g.ToModel("x", [1, 3, 5], "y", [2]));
        using var x = Tensor.Zeros(2, 3, 5);
        var outputs = model.Run(new Dictionary<string, OnnxValue> { ["x"] = OnnxValue.Float(x) });
        Assert.Equal([5L, 3], outputs["y"].Integers!);

        var bad = new OnnxGraph(13);
        bad.NamedNode("y", "Gather", ["x", bad.Int64Initializer("index", 3)], new OnnxAttribute("axis", Int: 1));
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(bad.ToModel("x", [1, 3], "y", [1, 1])).Forward(Tensor.Zeros(2, 3)));
        Assert.Contains("Gather node 'y'", e.Message);
        Assert.Contains("index 3 is out of range for axis 1 of size 3", e.Message);
    }

    [Fact]
    public void SqueezeUnsqueezeReadAxesAsTheOpsetSays()
    {
        // Opset 11: axes attribute; negative and unsorted.
        var old = new OnnxGraph(11);
        string up = old.Node("Unsqueeze", ["x"], new OnnxAttribute("axes", Ints: [-1, 0]));
        old.NamedNode("y", "Squeeze", [up], new OnnxAttribute("axes", Ints: [0]));
        using var y = OnnxModel.Load(old.ToModel("x", [1, 3], "y", [1, 3, 1])).Forward(Tensor.Zeros(2, 3));
        Assert.Equal(new TensorShape(2, 3, 1), y.Shape);

        // Opset 13 moved axes to an input, so the attribute is not understood any more.
        var moved = new OnnxGraph(13);
        moved.NamedNode("y", "Squeeze", ["x"], new OnnxAttribute("axes", Ints: [0]));
        var e = Assert.Throws<NotSupportedException>(() => OnnxModel.Load(moved.ToModel("x", [1, 3], "y", [3])));
        Assert.Contains("Squeeze node 'y' (opset 13): attribute 'axes' is not supported", e.Message);

        var wrong = new OnnxGraph(13);
        wrong.NamedNode("y", "Squeeze", ["x", wrong.Int64Initializer("axes", 1)]);
        var e2 = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(wrong.ToModel("x", [1, 3], "y", [1])).Forward(Tensor.Zeros(1, 3)));
        Assert.Contains("cannot squeeze axis 1 of size 3", e2.Message);
    }

    [Fact]
    public void CastToUnsupportedTypesFailsAtLoad()
    {
        var g = new OnnxGraph(13);
        g.NamedNode("y", "Cast", ["x"], new OnnxAttribute("to", Int: 11));
        var e = Assert.Throws<NotSupportedException>(() => OnnxModel.Load(g.ToModel("x", [1, 3], "y", [1, 3])));
        Assert.Contains("Cast node 'y' (opset 13): casting to double is not supported", e.Message);
    }

    private static OnnxValue Integers(Tensor x) =>
        OnnxValue.Integer(OnnxDataType.Int64, x.ToArray().Select(v => (long)(v * 1000)).ToArray(), x.Shape.ToArray());

    private static long[] Naive(OnnxValue x, int[] outDims, Func<int[], int> source, float fill)
    {
        using var y = Naive(x.Integers!.Select(v => (float)v).ToArray(), outDims, source, fill);
        return y.ToArray().Select(v => (long)v).ToArray();
    }

    private static int[] Strides(int[] dims)
    {
        var strides = new int[dims.Length];
        for (int d = dims.Length - 1, s = 1; d >= 0; s *= dims[d], d--) strides[d] = s;
        return strides;
    }

    /// <summary>Fills each output element from the source index <paramref name="source"/> gives its coordinates (-1: <paramref name="fill"/>).</summary>
    private static Tensor Naive(float[] x, int[] outDims, Func<int[], int> source, float fill)
    {
        var y = Tensor.Zeros(new TensorShape(outDims));
        var index = new int[outDims.Length];
        for (int flat = 0; flat < y.Length; flat++)
        {
            for (int d = outDims.Length - 1, rest = flat; d >= 0; d--)
            {
                index[d] = rest % outDims[d];
                rest /= outDims[d];
            }
            int s = source(index);
            y.Span[flat] = s < 0 ? fill : x[s];
        }
        return y;
    }
}
