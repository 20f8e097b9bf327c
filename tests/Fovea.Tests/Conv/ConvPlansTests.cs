using Fovea.Tests.Support;

namespace Fovea.Tests.Conv;

/// <summary>
/// Forward plans are kept per weight tensor (packed or Winograd-transformed weights): a changed weight, another
/// image size or batch must never run a stale plan. Each result is compared with the same conv on a fresh copy
/// of the weights, which cannot hit the cache.
/// </summary>
public class ConvPlansTests
{
    [Theory]
    [InlineData(3, 8)]
    [InlineData(64, 64)]
    public void AWeightChangedInPlaceIsSeenAtOnce(int inChannels, int outChannels)
    {
        var rng = new Rng(12);
        using var weight = Tensor.Normal(new TensorShape(outChannels, inChannels, 3, 3), 0, 0.2f, rng);
        using var x = Tensor.Normal(new TensorShape(2, inChannels, 33, 35), 0, 1, rng);
        using var _ = Autograd.NoGrad();
        using var first = F.Conv2d(x, weight, padding: 1);
        AssertSameAsFreshWeights(x, weight, first);

        weight.Span[weight.Length - 1] += 1f;  // the last value: a comparison that stopped early would miss it
        using var second = F.Conv2d(x, weight, padding: 1);
        AssertSameAsFreshWeights(x, weight, second);
        Assert.NotEqual(first.ToArray(), second.ToArray());
    }

    [Fact]
    public void OtherSizesAndBatchesWithTheSameWeightsGetTheirOwnPlans()
    {
        var rng = new Rng(13);
        using var weight = Tensor.Normal(new TensorShape(64, 64, 3, 3), 0, 0.1f, rng);
        using var _ = Autograd.NoGrad();
        foreach (var shape in new[] { new TensorShape(2, 64, 40, 40), new TensorShape(1, 64, 9, 7), new TensorShape(3, 64, 40, 40), new TensorShape(2, 64, 40, 40) })
        {
            using var x = Tensor.Normal(shape, 0, 1, rng);
            using var y = F.Conv2d(x, weight, padding: 1);
            AssertSameAsFreshWeights(x, weight, y);
        }
    }

    [Theory]
    [InlineData(16, 32, 20)]  // the implicit GEMM
    [InlineData(64, 64, 6)]   // the channel-vectorised kernel (a small map)
    public void RepeatedInferenceLeavesTheWeightsVersionAlone(int inChannels, int outChannels, int size)
    {
        // What lets a kept plan be trusted without comparing the weights: nothing on the inference path takes them writable.
        var rng = new Rng(14);
        using var weight = Tensor.Normal(new TensorShape(outChannels, inChannels, 3, 3), 0, 0.2f, rng);
        using var x = Tensor.Normal(new TensorShape(4, inChannels, size, size), 0, 1, rng);
        var model = new Fovea.Nn.Sequential(new Fovea.Nn.Conv2d(inChannels, outChannels, 3, padding: 1, rng: rng), new Fovea.Nn.ReLU());
        model.Eval();
        using var _ = Autograd.NoGrad();
        F.Conv2d(x, weight, padding: 1).Dispose();
        model.Forward(x).Dispose();
        var conv = (Fovea.Nn.Conv2d)model.Layers[0];
        int version = weight.Version, convVersion = conv.Weight.Version;
        for (int i = 0; i < 3; i++)
        {
            F.Conv2d(x, weight, padding: 1).Dispose();
            model.Forward(x).Dispose();
        }
        Assert.Equal(version, weight.Version);
        Assert.Equal(convVersion, conv.Weight.Version);
    }

    [Fact]
    public void AWeightTakenWritableButUnchangedKeepsItsPlan()
    {
        var rng = new Rng(15);
        using var weight = Tensor.Normal(new TensorShape(32, 16, 3, 3), 0, 0.2f, rng);
        using var x = Tensor.Normal(new TensorShape(2, 16, 20, 20), 0, 1, rng);
        using var _ = Autograd.NoGrad();
        using var first = F.Conv2d(x, weight, padding: 1);
        weight.Span.CopyTo(weight.Span);  // a possible change: the next call compares, finds the same bits, and trusts the new version
        using var second = F.Conv2d(x, weight, padding: 1);
        int version = weight.Version;
        using var third = F.Conv2d(x, weight, padding: 1);
        TensorAssert.Equal(first, second, "after the compare");
        TensorAssert.Equal(first, third, "after the compare");
        Assert.Equal(version, weight.Version);
    }

    private static void AssertSameAsFreshWeights(Tensor x, Tensor weight, Tensor actual)
    {
        using var fresh = weight.Clone();
        using var expected = F.Conv2d(x, fresh, padding: 1);
        TensorAssert.Equal(expected, actual, $"conv of {x.Shape}");
    }
}
