using Fovea;
using Fovea.Nn;
using Fovea.Tests.Support;

namespace Fovea.Tests.Norm;

/// <summary>
/// The fused training fast paths (batch norm + ReLU, add + ReLU, gradients stored instead of added to zeros)
/// against the plain ops they replace, on odd shapes, with gradients reaching the same tensor by several paths.
/// </summary>
public class FusedOpsTests
{
    private static Tensor Leaf(Tensor t)
    {
        var leaf = t.Clone();
        leaf.RequiresGrad = true;
        return leaf;
    }

    /// <summary>Exact values; +0 and −0 count as equal (a stored gradient may keep a zero's sign that 0 + x drops).</summary>
    private static void Same(Tensor expected, Tensor actual, string what) => TensorAssert.Close(expected, actual, rtol: 0, atol: 0, what: what);

    [Theory]
    [InlineData(new[] { 3, 5, 7, 3 }, true, true)]
    [InlineData(new[] { 1, 7, 13 }, true, false)]
    [InlineData(new[] { 5, 3 }, true, true)]
    [InlineData(new[] { 2, 4, 5, 5 }, false, true)]
    public void BatchNormReluMatchesBatchNormThenRelu(int[] shape, bool training, bool affine)
    {
        var rng = new Rng(11);
        int channels = shape[1];
        var x = Tensor.Normal(new TensorShape(shape), 0.3f, 1.5f, rng);
        var weight = Tensor.Normal(new TensorShape(channels), 1f, 0.5f, rng);
        var bias = Tensor.Normal(new TensorShape(channels), 0f, 0.5f, rng);
        var dy = Tensor.Normal(new TensorShape(shape), 0f, 1f, rng);
        var mean = Tensor.Normal(new TensorShape(channels), 0f, 0.2f, rng);
        var variance = Tensor.Uniform(new TensorShape(channels), 0.5f, 2f, rng);

        (Tensor Y, Tensor Gx, Tensor? Gw, Tensor? Gb, Tensor RunningMean) Run(bool fused)
        {
            Tensor input = Leaf(x), w = Leaf(weight), b = Leaf(bias), runningMean = mean.Clone(), runningVar = variance.Clone();
            Tensor? wt = affine ? w : null, bt = affine ? b : null;
            var y = fused
                ? F.BatchNormRelu(input, runningMean, runningVar, wt, bt, training)
                : F.Relu(F.BatchNorm(input, runningMean, runningVar, wt, bt, training));
            // The input also feeds the sum, so its gradient arrives by two paths (one stores, one adds).
            var z = F.Add(y, input);
            var values = y.Clone();
            z.Backward(dy);
            return (values, input.Grad!, wt?.Grad, bt?.Grad, runningMean);
        }
        var expected = Run(fused: false);
        var actual = Run(fused: true);
        Same(expected.Y, actual.Y, "output");
        Same(expected.Gx, actual.Gx, "input gradient");
        Same(expected.RunningMean, actual.RunningMean, "running mean");
        if (!affine) return;
        Same(expected.Gw!, actual.Gw!, "weight gradient");
        Same(expected.Gb!, actual.Gb!, "bias gradient");
    }

    [Theory]
    [InlineData(new[] { 3, 5, 7 }, new[] { 3, 5, 7 })]
    [InlineData(new[] { 2, 3, 4, 1 }, new[] { 3, 1, 5 })]
    public void AddReluMatchesAddThenRelu(int[] aShape, int[] bShape)
    {
        var rng = new Rng(12);
        var a = Tensor.Normal(new TensorShape(aShape), 0f, 1f, rng);
        var b = Tensor.Normal(new TensorShape(bShape), 0f, 1f, rng);
        (Tensor Y, Tensor Ga, Tensor Gb) Run(bool fused)
        {
            Tensor ta = Leaf(a), tb = Leaf(b);
            var y = fused ? F.AddRelu(ta, tb) : F.Relu(F.Add(ta, tb));
            var values = y.Clone();
            y.Backward(Tensor.Normal(y.Shape, 0f, 1f, new Rng(13)));
            return (values, ta.Grad!, tb.Grad!);
        }
        var expected = Run(fused: false);
        var actual = Run(fused: true);
        Same(expected.Y, actual.Y, "output");
        Same(expected.Ga, actual.Ga, "gradient of a");
        Same(expected.Gb, actual.Gb, "gradient of b");
    }

    [Fact]
    public void SameOperandTwiceGetsBothShares()
    {
        var x = Leaf(Tensor.Normal(new TensorShape(3, 7, 5), 0f, 1f, new Rng(14)));
        var dy = Tensor.Normal(x.Shape, 0f, 1f, new Rng(15));
        F.Sub(F.AddRelu(x, x), F.Mul(x, 3f)).Backward(dy);
        var expected = new float[x.Length];
        for (int i = 0; i < expected.Length; i++) expected[i] = (x.Span[i] > 0 ? 2 * dy.Span[i] : 0f) - 3f * dy.Span[i];
        TensorAssert.Close(expected, x.Grad!.Span, 1e-6, 1e-6, "gradient of x + x − 3x");
    }

    [Fact]
    public void ElementwiseOpsSplitAcrossThreadsMatchANaiveLoop()
    {
        using var _ = Parallelism.UseThreads(3);
        var rng = new Rng(16);
        // Three chunks over the parallel grain, odd sizes, with a broadcast operand whose runs straddle the chunk boundaries.
        var a = Leaf(Tensor.Normal(new TensorShape(7, 13, 37, 41), 0f, 1f, rng));
        var b = Leaf(Tensor.Normal(new TensorShape(13, 1, 41), 0f, 1f, rng));
        var y = F.Sub(a, b);
        var dy = Tensor.Normal(y.Shape, 0f, 1f, rng);
        y.Backward(dy);
        var expectedGb = new double[b.Length];
        for (int i = 0; i < y.Length; i++)
        {
            int w = i % 41, c = i / (41 * 37) % 13;
            Assert.Equal(a.Span[i] - b.Span[c * 41 + w], y.Span[i]);
            Assert.Equal(dy.Span[i], a.Grad!.Span[i]);
            expectedGb[c * 41 + w] -= dy.Span[i];
        }
        TensorAssert.Close(expectedGb.Select(v => (float)v).ToArray(), b.Grad!.Span, 1e-4, 1e-4, "gradient of the broadcast operand");
    }

    [Fact]
    public void SequentialFusesBatchNormAndReluWithTheSameResults()
    {
        var x = Tensor.Normal(new TensorShape(4, 3, 5, 7), 0f, 1f, new Rng(17));
        var dy = Tensor.Normal(x.Shape, 0f, 1f, new Rng(18));
        var fused = new Sequential(new BatchNorm2d(3), new ReLU());
        var plain = new BatchNorm2d(3);
        fused.Parameters().First().Span.Fill(0.7f);
        plain.Weight!.Span.Fill(0.7f);

        var input = Leaf(x);
        var y = fused.Forward(input);
        Assert.Equal("BatchNormRelu", y.GradFn!.Name);
        var values = y.Clone();
        y.Backward(dy);
        var reference = Leaf(x);
        var expected = F.Relu(plain.Forward(reference));
        var expectedValues = expected.Clone();
        expected.Backward(dy);

        Same(expectedValues, values, "training output");
        Same(reference.Grad!, input.Grad!, "input gradient");
        var norm = (BatchNorm2d)fused.Layers[0];
        Same(plain.RunningVar!, norm.RunningVar!, "running variance");
        Same(plain.Weight.Grad!, norm.Weight!.Grad!, "weight gradient");
        using (fused.Inference())
        using (plain.Inference())
            Same(F.Relu(plain.Forward(x)), fused.Forward(x), "inference output");
    }
}
