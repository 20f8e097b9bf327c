using Fovea;
using Fovea.Tests.Support;

namespace Fovea.Tests.Activations;

public class DropoutTests
{
    private static Tensor Input(int length) => Tensor.Uniform(new TensorShape(length), 0.5f, 2f, new Rng(3));

    [Fact]
    public void SameSeedGivesTheSameMask()
    {
        var x = Input(1000);
        TensorAssert.Equal(F.Dropout(x, 0.3f, true, new Rng(42)), F.Dropout(x, 0.3f, true, new Rng(42)));
        Assert.NotEqual(F.Dropout(x, 0.3f, true, new Rng(42)).ToArray(), F.Dropout(x, 0.3f, true, new Rng(43)).ToArray());
    }

    /// <summary>The mask is the definition, bit for bit: element i is kept when the i-th NextFloat draw is ≥ p (odd lengths: vector and scalar parts).</summary>
    [Theory]
    [InlineData(1, 0.3f)]
    [InlineData(37, 0.5f)]
    [InlineData(1001, 0.25f)]
    public void TheMaskIsOneDrawPerElementInOrder(int length, float p)
    {
        var x = Input(length);
        var draws = new Rng(9);
        float scale = 1f / (1f - p);
        var expected = x.ToArray().Select(v => draws.NextFloat() >= p ? v * scale : v * 0f).ToArray();
        Assert.Equal(expected, F.Dropout(x, p, true, new Rng(9)).ToArray());
    }

    [Theory]
    [InlineData(0.1f)]
    [InlineData(0.5f)]
    [InlineData(0.9f)]
    public void KeepsAboutOneMinusPAndScalesTheSurvivors(float p)
    {
        const int n = 100_000;
        var x = Input(n);
        var y = F.Dropout(x, p, true, new Rng(7));
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            if (y.Span[i] == 0f) continue;
            kept++;
            Assert.Equal(x.Span[i] * (1f / (1f - p)), y.Span[i]);
        }
        // Binomial(n, 1 − p): stay within 5 standard deviations.
        double expected = n * (1 - p), sigma = Math.Sqrt(n * p * (1 - p));
        Assert.InRange(kept, expected - 5 * sigma, expected + 5 * sigma);
    }

    [Fact]
    public void GradientIsTheScaledMask()
    {
        var x = Input(500);
        x.RequiresGrad = true;
        var y = F.Dropout(x, 0.4f, true, new Rng(5));
        var g = Tensor.Normal(y.Shape, 0, 1, new Rng(6));
        y.Backward(g);
        for (int i = 0; i < x.Length; i++)
        {
            float expected = y.Span[i] == 0f ? 0f : g.Span[i] / 0.6f;
            Assert.Equal(expected, x.Grad!.Span[i], 1e-6f);
        }
    }

    [Fact]
    public void IsTheIdentityOutsideTrainingOrWithPZero()
    {
        var x = Input(64);
        Assert.Same(x, F.Dropout(x, 0.5f, false, new Rng(1)));
        Assert.Same(x, F.Dropout(x, 0f, true, new Rng(1)));
    }

    [Fact]
    public void PEqualOneGivesZerosAndZeroGradient()
    {
        var x = Input(64);
        x.RequiresGrad = true;
        var y = F.Dropout(x, 1f, true, new Rng(1));
        Assert.All(y.ToArray(), v => Assert.Equal(0f, v));
        F.Sum(y).Backward();
        Assert.All(x.Grad!.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void InvalidProbabilityIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => F.Dropout(Input(4), 1.5f, true, new Rng(1)));
        Assert.Contains("Dropout", e.Message);
        Assert.Contains("1.5", e.Message);
        Assert.Throws<ArgumentException>(() => new Nn.Dropout(-0.1f));
    }

    [Fact]
    public void LayerFollowsTrainingModeAndItsRng()
    {
        var layer = new Nn.Dropout(0.5f, new Rng(9));
        var x = Input(256);
        TensorAssert.Equal(F.Dropout(x, 0.5f, true, new Rng(9)), layer.Forward(x));
        layer.Eval();
        Assert.Same(x, layer.Forward(x));
    }
}
