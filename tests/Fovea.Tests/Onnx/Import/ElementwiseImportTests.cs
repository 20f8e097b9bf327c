using Fovea.Onnx;
using Fovea.Onnx.Import;
using Fovea.Tests.Support;

namespace Fovea.Tests.Onnx.Import;

/// <summary>
/// The element-wise, softmax, matrix and dropout importers on what the backend tests leave out:
/// broadcasting corners against naive loops, integer wrap-around, opset 6's broadcast attribute, the two
/// meanings of Softmax's axis, and errors that name the node.
/// </summary>
public class ElementwiseImportTests
{
    [Theory]
    [InlineData(new[] { 2, 3, 1 }, new[] { 4 })]
    [InlineData(new[] { 1 }, new[] { 3, 1, 5 })]
    [InlineData(new int[0], new[] { 2, 3 })]
    [InlineData(new[] { 5, 1, 3 }, new[] { 1, 7, 1 })]
    [InlineData(new[] { 0, 3 }, new[] { 1, 3 })]
    public void Sub_broadcasts_like_a_naive_loop(int[] aDims, int[] bDims)
    {
        var rng = new Rng(3);
        Tensor a = Tensor.Normal(aDims, 0, 1, rng), b = Tensor.Normal(bDims, 0, 1, rng);
        var y = Run(Kernel("Sub", 13), OnnxValue.Float(a), OnnxValue.Float(b)).Floats!;
        var expected = NaiveBroadcast(a.Span.ToArray(), aDims, b.Span.ToArray(), bDims, (x, z) => x - z, out int[] dims);
        Assert.Equal(dims, y.Shape.ToArray());
        TensorAssert.Close(expected, y.Span, what: "a - b");
    }

    [Theory]
    [InlineData("Add", OnnxDataType.UInt8, 200, 100, 44)]
    [InlineData("Sub", OnnxDataType.UInt8, 3, 5, 254)]
    [InlineData("Mul", OnnxDataType.UInt8, 16, 16, 0)]
    [InlineData("Add", OnnxDataType.Int8, 127, 1, -128)]
    [InlineData("Div", OnnxDataType.Int8, -7, 2, -3)]
    [InlineData("Mul", OnnxDataType.Int32, int.MaxValue, 2, -2)]
    [InlineData("Sub", OnnxDataType.UInt16, 0, 1, ushort.MaxValue)]
    [InlineData("Div", OnnxDataType.UInt64, -2, 2, long.MaxValue)]  // 2⁶⁴ − 2 held as its bits, divided unsigned
    public void Integer_arithmetic_wraps_to_its_type(string op, OnnxDataType type, long a, long b, long expected)
    {
        var y = Run(Kernel(op, 14), OnnxValue.Integer(type, [a, a], [2]), OnnxValue.Integer(type, [b], []));
        Assert.Equal(type, y.Type);
        Assert.Equal([expected, expected], y.Integers!);
    }

    [Fact]
    public void Integer_division_by_zero_and_mixed_types_are_errors()
    {
        var div = Kernel("Div", 14);
        var e = Assert.Throws<ArgumentException>(() => Run(div, OnnxValue.Int64s(1), OnnxValue.Int64s(0)));
        Assert.Contains("division by zero", e.Message);
        e = Assert.Throws<ArgumentException>(() => Run(div, OnnxValue.Float(Tensor.Ones(1)), OnnxValue.Int64s(1)));
        Assert.Contains("same type", e.Message);
    }

    [Fact]
    public void Opset_6_broadcast_aligns_B_from_axis_or_with_the_trailing_dimensions()
    {
        var rng = new Rng(5);
        var a = Tensor.Normal(new TensorShape(2, 3, 4, 5), 0, 1, rng);
        var fromAxis = Tensor.Normal(new TensorShape(3, 4), 0, 1, rng);
        var y = Run(Kernel("Add", 6, Int("broadcast", 1), Int("axis", 1)), OnnxValue.Float(a), OnnxValue.Float(fromAxis)).Floats!;
        var expected = NaiveBroadcast(a.Span.ToArray(), [2, 3, 4, 5], fromAxis.Span.ToArray(), [3, 4, 1], (x, z) => x + z, out _);
        TensorAssert.Close(expected, y.Span, what: "axis 1");

        var trailing = Tensor.Normal(new TensorShape(4, 5), 0, 1, rng);
        y = Run(Kernel("Mul", 6, Int("broadcast", 1)), OnnxValue.Float(a), OnnxValue.Float(trailing)).Floats!;
        expected = NaiveBroadcast(a.Span.ToArray(), [2, 3, 4, 5], trailing.Span.ToArray(), [4, 5], (x, z) => x * z, out _);
        TensorAssert.Close(expected, y.Span, what: "trailing");

        var e = Assert.Throws<ArgumentException>(() => Run(Kernel("Add", 6), OnnxValue.Float(a), OnnxValue.Float(trailing)));
        Assert.Contains("broadcast is 0", e.Message);
        // From opset 7 the attribute no longer exists.
        var unsupported = Assert.Throws<NotSupportedException>(() => Kernel("Add", 7, Int("broadcast", 1)));
        Assert.Contains("attribute 'broadcast' is not supported", unsupported.Message);
    }

    [Theory]
    [InlineData("Softmax")]
    [InlineData("LogSoftmax")]
    public void Softmax_before_opset_13_normalises_the_flattened_trailing_block(string op)
    {
        var x = Tensor.Normal(new TensorShape(2, 3, 4), 0, 1, new Rng(7));
        bool log = op == "LogSoftmax";
        // Opset 11, axis 1: each of the 2 rows of 12 elements sums to 1.
        var old = Run(Kernel(op, 11, Int("axis", 1)), OnnxValue.Float(x)).Floats!;
        for (int row = 0; row < 2; row++) Assert.Equal(1f, Probabilities(old, log).Skip(row * 12).Take(12).Sum(), 4);
        // Opset 13, axis 1: every (batch, column) pair's 3 values along axis 1 sum to 1.
        var now = Run(Kernel(op, 13, Int("axis", 1)), OnnxValue.Float(x)).Floats!;
        var p = Probabilities(now, log);
        for (int n = 0; n < 2; n++)
            for (int col = 0; col < 4; col++) Assert.Equal(1f, Enumerable.Range(0, 3).Sum(c => p[n * 12 + c * 4 + col]), 4);
        // Opset 13's default is the last axis; opset 11's default (1) on a matrix is the same thing.
        TensorAssert.Close(Run(Kernel(op, 13), OnnxValue.Float(x)).Floats!, Run(Kernel(op, 13, Int("axis", -1)), OnnxValue.Float(x)).Floats!);
    }

    [Fact]
    public void PRelu_reads_a_per_channel_slope_as_opset_6_meant_it()
    {
        var x = Tensor.Normal(new TensorShape(2, 3, 2, 3), 0, 1, new Rng(9));
        var slope = Tensor.FromArray([0.1f, 0.2f, 0.3f], 3);
        // Opset 6: [C] is per channel even where it would also broadcast along the last axis (W = C = 3).
        var y = Run(Kernel("PRelu", 6), OnnxValue.Float(x), OnnxValue.Float(slope)).Floats!;
        var xs = x.Span;
        for (int i = 0; i < xs.Length; i++)
            Assert.Equal(xs[i] > 0 ? xs[i] : slope.Span[i / 6 % 3] * xs[i], y.Span[i], 5);
        // Opset 7 broadcasts it NumPy's way: along the last axis.
        y = Run(Kernel("PRelu", 7), OnnxValue.Float(x), OnnxValue.Float(slope)).Floats!;
        for (int i = 0; i < xs.Length; i++)
            Assert.Equal(xs[i] > 0 ? xs[i] : slope.Span[i % 3] * xs[i], y.Span[i], 5);
    }

    [Fact]
    public void PRelu_keeps_the_slope_trainable()
    {
        var x = Tensor.FromArray([-1f, 2f, -3f, 4f], 1, 2, 1, 2);
        var slope = Tensor.FromArray([0.5f, 0.25f], 2, 1, 1);
        slope.RequiresGrad = true;
        var y = Run(Kernel("PRelu", 13), OnnxValue.Float(x), OnnxValue.Float(slope)).Floats!;
        F.Sum(y).Backward();
        Assert.Equal([-1f, -3f], slope.Grad!.Span.ToArray());
    }

    [Fact]
    public void Clip_handles_integers_absent_bounds_and_old_attributes()
    {
        var clip = Kernel("Clip", 13, inputs: 3);
        var y = Run(clip, OnnxValue.Integer(OnnxDataType.Int8, [-128, -5, 0, 7, 127], [5]), OnnxValue.Integer(OnnxDataType.Int8, [-6], []), null);
        Assert.Equal([-6L, -5, 0, 7, 127], y.Integers!);
        var old = Run(Kernel("Clip", 6, Float("min", -1f), Float("max", 0.5f)), OnnxValue.Float(Tensor.FromArray([-3f, 0.25f, 2f], 3)));
        Assert.Equal([-1f, 0.25f, 0.5f], old.Floats!.Span.ToArray());
        var e = Assert.Throws<ArgumentException>(() => Run(clip, OnnxValue.Float(Tensor.Ones(2)), OnnxValue.Float(Tensor.Ones(2)), null));
        Assert.Contains("min must be a single float", e.Message);
    }

    [Theory]
    [InlineData(new[] { 2, 1, 3, 4 }, new[] { 5, 4, 3 })]
    [InlineData(new[] { 4 }, new[] { 2, 4, 3 })]
    [InlineData(new[] { 3, 2, 4 }, new[] { 4 })]
    [InlineData(new[] { 3, 2, 4 }, new[] { 3, 4, 5 })]
    [InlineData(new[] { 7, 2, 3 }, new[] { 3, 5 })]
    public void MatMul_follows_numpy_against_a_naive_loop(int[] aDims, int[] bDims)
    {
        var rng = new Rng(11);
        Tensor a = Tensor.Normal(aDims, 0, 1, rng), b = Tensor.Normal(bDims, 0, 1, rng);
        var y = Run(Kernel("MatMul", 13), OnnxValue.Float(a), OnnxValue.Float(b)).Floats!;
        var expected = NaiveMatMul(a.Span.ToArray(), aDims, b.Span.ToArray(), bDims, out int[] dims);
        Assert.Equal(dims, y.Shape.ToArray());
        TensorAssert.Close(expected, y.Span, what: "matmul");
    }

    [Theory]
    [InlineData(false, false, 1f, 1f, new[] { 5 })]
    [InlineData(true, false, 0.5f, 2f, new[] { 3, 1 })]
    [InlineData(true, true, 1.5f, -1f, new int[0])]
    [InlineData(false, true, 1f, 1f, new[] { 5 })]
    [InlineData(false, true, 2f, 0f, new[] { 3, 5 })]
    public void Gemm_matches_a_naive_loop(bool transA, bool transB, float alpha, float beta, int[] cDims)
    {
        const int m = 3, k = 4, n = 5;
        var rng = new Rng(13);
        var a = Tensor.Normal(transA ? new TensorShape(k, m) : new TensorShape(m, k), 0, 1, rng);
        var b = Tensor.Normal(transB ? new TensorShape(n, k) : new TensorShape(k, n), 0, 1, rng);
        var c = Tensor.Normal(cDims, 0, 1, rng);
        var gemm = Kernel("Gemm", 13, inputs: 3, Int("transA", transA ? 1 : 0), Int("transB", transB ? 1 : 0), Float("alpha", alpha), Float("beta", beta));
        var y = Run(gemm, OnnxValue.Float(a), OnnxValue.Float(b), OnnxValue.Float(c)).Floats!;
        var expected = NaiveBroadcast(new float[m * n], [m, n], c.Span.ToArray(), cDims, (_, z) => beta * z, out _);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int p = 0; p < k; p++)
                    expected[i * n + j] += alpha * a.Span[transA ? p * m + i : i * k + p] * b.Span[transB ? j * k + p : p * n + j];
        TensorAssert.Close(expected, y.Span, what: "gemm");
    }

    [Fact]
    public void Dropout_passes_its_input_on_at_inference_and_draws_a_seeded_mask_in_training()
    {
        var x = OnnxValue.Float(Tensor.Normal(new TensorShape(4, 25), 0, 1, new Rng(15)));
        var training = OnnxValue.Integer(OnnxDataType.Bool, [1], []);
        var inference = Kernel("Dropout", 13, inputs: 3, outputs: 2)([x, null, null]);
        Assert.Same(x, inference[0]);
        Assert.All(inference[1].Integers!, m => Assert.Equal(1, m));

        OnnxValue[] Train() => Kernel("Dropout", 13, inputs: 3, outputs: 2, Int("seed", 42))([x, OnnxValue.Float(Tensor.Scalar(0.25f)), training]);
        var first = Train();
        Assert.Equal(first[0].Floats!.Span.ToArray(), Train()[0].Floats!.Span.ToArray());
        var mask = first[1].Integers!;
        Assert.InRange(mask.Count(m => m == 0), 10, 40);
        for (int i = 0; i < mask.Length; i++)
            Assert.Equal(mask[i] == 1 ? x.Floats!.Span[i] / 0.75f : 0f, first[0].Floats!.Span[i], 5);
    }

    [Fact]
    public void Kernel_errors_name_the_node_and_the_shapes()
    {
        var graph = new OnnxGraph(13);
        string w = graph.Initializer("w", new float[8], 2, 4);
        graph.NamedNode("y", "Gemm", ["x", w], new OnnxAttribute("transB", Int: 1));
        var model = OnnxModel.Load(graph.ToModel("x", [1, 3], "y", [1, 2]));
        var e = Assert.Throws<InvalidDataException>(() => model.Forward(Tensor.Ones(1, 3)));
        Assert.Contains("Gemm node 'y' (opset 13)", e.Message);
        Assert.Contains("[1, 3]", e.Message);
    }

    // ---- helpers ----

    private static OnnxKernel Kernel(string op, long opset, params OnnxAttributeProto[] attributes) =>
        Kernel(op, opset, op is "Softmax" or "LogSoftmax" or "Clip" ? 1 : 2, 1, attributes);

    private static OnnxKernel Kernel(string op, long opset, int inputs, params OnnxAttributeProto[] attributes) => Kernel(op, opset, inputs, 1, attributes);

    private static OnnxKernel Kernel(string op, long opset, int inputs, int outputs, params OnnxAttributeProto[] attributes)
    {
        var node = new OnnxNodeProto("n", op, "", Enumerable.Range(0, inputs).Select(i => $"in{i}").ToArray(),
            Enumerable.Range(0, outputs).Select(i => $"out{i}").ToArray(), attributes.ToDictionary(a => a.Name));
        return OnnxOpRegistry.Create(new OnnxNodeContext(node, opset, _ => null));
    }

    private static OnnxValue Run(OnnxKernel kernel, params OnnxValue?[] inputs) => kernel(inputs)[0];

    private static OnnxAttributeProto Int(string name, long value) => new(name, OnnxAttributeType.Int, 0, value, "", null, [], [], []);

    private static OnnxAttributeProto Float(string name, float value) => new(name, OnnxAttributeType.Float, value, 0, "", null, [], [], []);

    private static float[] Probabilities(Tensor y, bool log) => y.Span.ToArray().Select(v => log ? MathF.Exp(v) : v).ToArray();

    /// <summary>f(a, b) over the NumPy broadcast of the two shapes, by multi-indices.</summary>
    private static float[] NaiveBroadcast(float[] a, int[] aDims, float[] b, int[] bDims, Func<float, float, float> f, out int[] dims)
    {
        int rank = Math.Max(aDims.Length, bDims.Length);
        int Dim(int[] d, int axis) => axis - (rank - d.Length) is int i && i >= 0 ? d[i] : 1;
        dims = Enumerable.Range(0, rank).Select(d => Math.Max(Dim(aDims, d), Dim(bDims, d)) * (Dim(aDims, d) == 0 || Dim(bDims, d) == 0 ? 0 : 1)).ToArray();
        var y = new float[dims.Aggregate(1, (p, d) => p * d)];
        for (int i = 0; i < y.Length; i++)
        {
            int rest = i, ai = 0, bi = 0, aStep = 1, bStep = 1;
            for (int d = rank - 1; d >= 0; d--)
            {
                int index = rest % dims[d];
                rest /= dims[d];
                int ad = Dim(aDims, d), bd = Dim(bDims, d);
                ai += (ad == 1 ? 0 : index) * aStep;
                bi += (bd == 1 ? 0 : index) * bStep;
                aStep *= ad;
                bStep *= bd;
            }
            y[i] = f(a[ai], b[bi]);
        }
        return y;
    }

    /// <summary>NumPy matmul by definition: promote vectors, broadcast batches, sum over k, drop promoted dimensions.</summary>
    private static float[] NaiveMatMul(float[] a, int[] aDims, float[] b, int[] bDims, out int[] dims)
    {
        int[] ad = aDims.Length == 1 ? [1, aDims[0]] : aDims, bd = bDims.Length == 1 ? [bDims[0], 1] : bDims;
        int m = ad[^2], k = ad[^1], n = bd[^1];
        // Broadcast the batch index maps by running NaiveBroadcast on the matrices' indices.
        int aBatches = a.Length / (m * k), bBatches = b.Length / (k * n);
        var aIndex = Enumerable.Range(0, aBatches).Select(i => (float)i).ToArray();
        var bIndex = Enumerable.Range(0, bBatches).Select(i => (float)i).ToArray();
        var pairs = NaiveBroadcast(aIndex, ad[..^2], bIndex, bd[..^2], (x, z) => x * 1e4f + z, out int[] batch);
        var y = new float[pairs.Length * m * n];
        for (int t = 0; t < pairs.Length; t++)
        {
            int ai = (int)(pairs[t] / 1e4f), bi = (int)(pairs[t] % 1e4f);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    for (int p = 0; p < k; p++)
                        y[(t * m + i) * n + j] += a[(ai * m + i) * k + p] * b[(bi * k + p) * n + j];
        }
        dims = [.. batch, .. aDims.Length == 1 ? Array.Empty<int>() : [m], .. bDims.Length == 1 ? Array.Empty<int>() : [n]];
        return y;
    }
}
