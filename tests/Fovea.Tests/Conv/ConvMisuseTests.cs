using Fovea.Nn;

namespace Fovea.Tests.Conv;

/// <summary>Misuse throws at once, naming the op or layer and the shapes.</summary>
public class ConvMisuseTests
{
    private static ArgumentException Conv(int[] x, int[] w, int[]? b = null, int stride = 1, Padding2d padding = default, int dilation = 1, int groups = 1) =>
        Assert.Throws<ArgumentException>(() => F.Conv2d(Tensor.Zeros(x), Tensor.Zeros(w), b is null ? null : Tensor.Zeros(b), stride, padding, dilation, groups));

    [Fact]
    public void WrongInputChannels() =>
        Assert.Equal("Conv2d(3→16): expected input [N, 3, H, W], received [8, 1, 28, 28]", Conv([8, 1, 28, 28], [16, 3, 3, 3]).Message);

    [Fact]
    public void WrongInputRank() =>
        Assert.Equal("Conv2d(3→16): expected input [N, 3, H, W], received [3, 28, 28]", Conv([3, 28, 28], [16, 3, 3, 3]).Message);

    [Fact]
    public void WeightNotRank4() => Assert.Contains("weight must be [out_channels, in_channels / groups, kH, kW]. Received [16, 27]", Conv([1, 3, 8, 8], [16, 27]).Message);

    [Fact]
    public void GroupsMustDivideChannels()
    {
        Assert.Equal("Conv2d(4→6): groups (4) must be positive and divide both in_channels (4) and out_channels (6).", Conv([1, 4, 8, 8], [6, 1, 3, 3], groups: 4).Message);
        Assert.Contains("groups (0)", Conv([1, 4, 8, 8], [6, 4, 3, 3], groups: 0).Message);
    }

    [Fact]
    public void KernelStrideDilationPadding()
    {
        Assert.Equal("Conv2d(3→4): kernel size must be positive. Received 0×3", Conv([1, 3, 8, 8], [4, 3, 0, 3]).Message);
        Assert.Equal("Conv2d(3→4): stride must be positive. Received 0×0", Conv([1, 3, 8, 8], [4, 3, 3, 3], stride: 0).Message);
        Assert.Equal("Conv2d(3→4): dilation must be positive. Received -1×-1", Conv([1, 3, 8, 8], [4, 3, 3, 3], dilation: -1).Message);
        Assert.Equal("Conv2d(3→4): padding must be non-negative. Received -1", Conv([1, 3, 8, 8], [4, 3, 3, 3], padding: -1).Message);
        Assert.Equal("Conv2d(3→4): padding \"same\" needs stride 1, as in PyTorch. Received stride 2×2", Conv([1, 3, 8, 8], [4, 3, 3, 3], stride: 2, padding: "same").Message);
    }

    [Fact]
    public void KernelLargerThanPaddedInput() =>
        Assert.Equal("Conv2d(3→4): kernel 5×5 (dilation 2×2) does not fit input [1, 3, 8, 8] padded by 0: output would be 0×0",
            Conv([1, 3, 8, 8], [4, 3, 5, 5], dilation: 2).Message);

    [Fact]
    public void BiasShape() => Assert.Equal("Conv2d(3→4): bias must be [4]. Received [3]", Conv([1, 3, 8, 8], [4, 3, 3, 3], [3]).Message);

    [Fact]
    public void UnknownPaddingString()
    {
        var e = Assert.Throws<ArgumentException>(() => F.Conv2d(Tensor.Zeros(1, 3, 8, 8), Tensor.Zeros(4, 3, 3, 3), padding: "full"));
        Assert.Equal("Padding must be \"same\", \"valid\" or a number of pixels. Received: \"full\"", e.Message);
    }

    [Fact]
    public void LayerForwardNamesTheLayer()
    {
        var layer = new Conv2d(3, 16, 3, padding: 1, rng: new Rng(1));
        var e = Assert.Throws<ArgumentException>(() => layer.Forward(Tensor.Zeros(8, 1, 28, 28)));
        Assert.Equal("Conv2d(3→16, k=3, s=1, p=1): expected input [N, 3, H, W], received [8, 1, 28, 28]", e.Message);
    }

    [Fact]
    public void LayerConstructorValidatesAtOnce()
    {
        var e = Assert.Throws<ArgumentException>(() => new Conv2d(3, 16, 3, groups: 2));
        Assert.Equal("Conv2d(3→16, k=3, s=1, p=0, g=2): groups (2) must be positive and divide both in_channels (3) and out_channels (16).", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Conv2d(3, 16, 3, stride: 2, padding: Padding2d.Same));
        Assert.Contains("needs stride 1", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Conv2d(3, 16, 0));
        Assert.StartsWith("Conv2d(3→16, k=0", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Conv2d(-1, 16, 3));
        Assert.Equal("Conv2d(-1→16, k=3, s=1, p=0): channels must be positive. Received in_channels=-1, out_channels=16", e.Message);
    }
}
