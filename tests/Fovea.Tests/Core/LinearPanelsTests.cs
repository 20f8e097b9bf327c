using Fovea.Tests.Support;

namespace Fovea.Tests.Core;

/// <summary>
/// Batch-1 inference of Linear runs from weights packed into 64-output panels, kept per weight tensor (PanelGemv):
/// compared with a naive double-precision loop on panel-edge shapes (one panel, a panel and one output, a ragged
/// remainder, odd and one-deep products), on one and two threads; a changed weight must never run a stale panel.
/// </summary>
public class LinearPanelsTests
{
    [Theory]
    [InlineData(1, 64, true)]
    [InlineData(7, 65, false)]
    [InlineData(2, 128, true)]
    [InlineData(33, 130, true)]
    [InlineData(3136, 128, true)]
    [InlineData(101, 200, false)]
    [InlineData(784, 256, true)]
    [InlineData(5, 10, true)]  // under one panel: the dot-product path
    public void BatchOneInferenceMatchesANaiveLoop(int depth, int outputs, bool withBias)
    {
        var rng = new Rng((ulong)(depth * 1000 + outputs));
        using var x = Tensor.Normal(new TensorShape(1, depth), 0, 1, rng);
        using var weight = Tensor.Normal(new TensorShape(outputs, depth), 0, 0.1f, rng);
        using var bias = withBias ? Tensor.Normal(new TensorShape(outputs), 0, 1, rng) : null;
        var expected = Naive(x.ToArray(), weight.ToArray(), bias?.ToArray(), outputs, depth);
        using var _ = Autograd.NoGrad();
        foreach (int threads in new[] { 1, 2 })
        {
            using var scope = Parallelism.UseThreads(threads);
            using var y = F.Linear(x, weight, bias);
            Assert.Equal(new TensorShape(1, outputs), y.Shape);
            TensorAssert.Close(expected, y.Span, rtol: 1e-5, atol: 1e-5, what: $"{depth}→{outputs} on {threads} thread(s)");
        }
    }

    [Fact]
    public void CallsWalkingThePanelsEitherWayGiveTheSameBits()
    {
        // Every other call walks a thread's panels last to first (to find the panel it read last still in L2).
        var rng = new Rng(23);
        using var x = Tensor.Normal(new TensorShape(1, 301), 0, 1, rng);
        using var weight = Tensor.Normal(new TensorShape(64 * 5 + 3, 301), 0, 0.1f, rng);
        using var _ = Autograd.NoGrad();
        foreach (int threads in new[] { 1, 2 })
        {
            using var scope = Parallelism.UseThreads(threads);
            using var first = F.Linear(x, weight);
            using var second = F.Linear(x, weight);
            using var third = F.Linear(x, weight);
            Assert.Equal(first.ToArray(), second.ToArray());
            Assert.Equal(first.ToArray(), third.ToArray());
        }
    }

    [Fact]
    public void AWeightChangedInPlaceIsSeenAtOnce()
    {
        var rng = new Rng(21);
        using var x = Tensor.Normal(new TensorShape(1, 50), 0, 1, rng);
        using var weight = Tensor.Normal(new TensorShape(130, 50), 0, 0.1f, rng);
        using var _ = Autograd.NoGrad();
        using var first = F.Linear(x, weight);
        weight.Span[0] += 1f;                  // the first panel
        weight.Span[weight.Length - 1] += 1f;  // and the outputs past the panels
        using var second = F.Linear(x, weight);
        TensorAssert.Close(Naive(x.ToArray(), weight.ToArray(), null, 130, 50), second.Span, rtol: 1e-5, atol: 1e-5);
        Assert.NotEqual(first[0, 0], second[0, 0]);
        Assert.NotEqual(first[0, 129], second[0, 129]);
    }

    [Fact]
    public void RepeatedInferenceLeavesTheWeightsVersionAlone()
    {
        // What lets the kept panels be trusted without comparing the weights: the inference path never takes them writable.
        var rng = new Rng(22);
        using var x = Tensor.Normal(new TensorShape(1, 40), 0, 1, rng);
        using var weight = Tensor.Normal(new TensorShape(64, 40), 0, 0.1f, rng);
        using var bias = Tensor.Normal(new TensorShape(64), 0, 1, rng);
        using var _ = Autograd.NoGrad();
        F.Linear(x, weight, bias).Dispose();
        int version = weight.Version, biasVersion = bias.Version;
        for (int i = 0; i < 3; i++) F.Linear(x, weight, bias).Dispose();
        Assert.Equal(version, weight.Version);
        Assert.Equal(biasVersion, bias.Version);
    }

    private static float[] Naive(float[] x, float[] w, float[]? b, int outputs, int depth)
    {
        var y = new float[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double sum = b?[o] ?? 0;
            for (int p = 0; p < depth; p++) sum += (double)w[o * depth + p] * x[p];
            y[o] = (float)sum;
        }
        return y;
    }
}
