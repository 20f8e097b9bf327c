using Fovea;
using Fovea.Tests.Support;

namespace Fovea.Tests.Pooling;

public class PoolingTests
{
    public static TheoryData<string> Cases => Fixture.Names("pool");

    private static Tensor Run(FixtureCase c, Tensor x) => c.Op switch
    {
        "MaxPool2d" => F.MaxPool2d(x, Pair(c, "kernel"), Pair(c, "stride"), Pair(c, "padding"), Pair(c, "dilation"), c.Bool("ceil_mode")),
        "AvgPool2d" => F.AvgPool2d(x, Pair(c, "kernel"), Pair(c, "stride"), Pair(c, "padding"), c.Bool("ceil_mode"), c.Bool("count_include_pad")),
        "AdaptiveAvgPool2d" => F.AdaptiveAvgPool2d(x, Pair(c, "output_size")),
        "GlobalAvgPool2d" => F.GlobalAvgPool2d(x),
        _ => throw new InvalidOperationException(c.Op),
    };

    private static (int H, int W) Pair(FixtureCase c, string key)
    {
        var v = c.Ints(key, [0, 0]);
        return (v[0], v[1]);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        var c = Fixture.Get("pool", name);
        Fixture.Check(c, i => Run(c, i["x"]));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PassesGradCheck(string name)
    {
        // Max-pool fixtures hold values 0.05 apart, so the ±0.01 steps change no window's winner.
        var c = Fixture.Get("pool", name);
        GradCheck.Check(t => Run(c, t[0]), [c.Inputs["x"].Clone()], what: name);
    }

    [Fact]
    public void SquareAndPairOverloadsAgree()
    {
        var x = Tensor.Normal(new TensorShape(2, 3, 9, 8), 0, 1, new Rng(3));
        TensorAssert.Equal(F.MaxPool2d(x, (3, 3), (2, 2), (1, 1), (1, 1)), F.MaxPool2d(x, 3, 2, 1));
        TensorAssert.Equal(F.AvgPool2d(x, (2, 2)), F.AvgPool2d(x, 2));
        TensorAssert.Equal(F.AdaptiveAvgPool2d(x, (1, 1)), F.GlobalAvgPool2d(x));
    }

    [Fact]
    public void NoGradSkipsTheArgmaxAndRecordsNothing()
    {
        var x = Tensor.Normal(new TensorShape(1, 2, 5, 5), 0, 1, new Rng(4));
        x.RequiresGrad = true;
        var recorded = F.MaxPool2d(x, 2);
        using (Autograd.NoGrad())
        {
            var y = F.MaxPool2d(x, 2);
            Assert.False(y.RequiresGrad);
            TensorAssert.Equal(recorded, y);
        }
    }

    [Fact]
    public void WindowLargerThanInputNamesOpAndShape()
    {
        var e = Assert.Throws<ArgumentException>(() => F.MaxPool2d(Tensor.Zeros(1, 1, 1, 1), 2));
        Assert.StartsWith("MaxPool2d(k=2): input [1, 1, 1, 1] is smaller than the window", e.Message);
    }

    [Fact]
    public void PaddingOverHalfTheKernelIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => F.AvgPool2d(Tensor.Zeros(1, 1, 8, 8), 3, padding: 2));
        Assert.Contains("AvgPool2d(k=3, p=2)", e.Message);
        Assert.Contains("at most half the kernel", e.Message);
    }

    [Fact]
    public void WrongRankNamesOpAndShape()
    {
        var e = Assert.Throws<ArgumentException>(() => F.MaxPool2d(Tensor.Zeros(3, 8, 8), (2, 3), dilation: (2, 2)));
        Assert.Equal("MaxPool2d(k=(2, 3), d=2): expected input [N, C, H, W], received [3, 8, 8]", e.Message);
        var a = Assert.Throws<ArgumentException>(() => F.AdaptiveAvgPool2d(Tensor.Zeros(8, 8), (3, 4)));
        Assert.Equal("AdaptiveAvgPool2d(output=(3, 4)): expected input [N, C, H, W], received [8, 8]", a.Message);
        Assert.Throws<ArgumentException>(() => F.GlobalAvgPool2d(Tensor.Zeros(2, 4)));
    }

    [Theory]
    [InlineData(0, 1, 1)]
    [InlineData(2, -1, 1)]
    [InlineData(2, 1, 0)]
    public void NonPositiveSizesAreRejected(int kernel, int stride, int dilation)
    {
        var e = Assert.Throws<ArgumentException>(() => F.MaxPool2d(Tensor.Zeros(1, 1, 6, 6), kernel, stride, 0, dilation));
        Assert.StartsWith("MaxPool2d(", e.Message);
    }

    [Fact]
    public void NaNWinsItsWindowAsInPyTorch()
    {
        var x = Tensor.FromArray([1f, float.NaN, 3f, 2f], 1, 1, 2, 2);
        Assert.True(float.IsNaN(F.MaxPool2d(x, 2).Item()));
    }
}
