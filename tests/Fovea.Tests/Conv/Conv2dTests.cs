using Fovea.Tests.Support;

namespace Fovea.Tests.Conv;

public class Conv2dTests
{
    public static TheoryData<string> Cases => ConvFixtures.Names("Conv2d");

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        var c = Fixture.Get(ConvFixtures.Family, name);
        Fixture.Check(c, inputs => ConvFixtures.Run(c, inputs));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PassesGradCheck(string name) => ConvFixtures.GradCheckCase(Fixture.Get(ConvFixtures.Family, name));

    [Fact]
    public void IntPaddingPairAndStringSpellingsAgree()
    {
        var rng = new Rng(3);
        var x = Tensor.Normal(new TensorShape(2, 3, 7, 6), 0, 1, rng);
        var w = Tensor.Normal(new TensorShape(4, 3, 3, 3), 0, 1, rng);
        var byInt = F.Conv2d(x, w, padding: 1);
        TensorAssert.Equal(byInt, F.Conv2d(x, w, padding: (1, 1)));
        TensorAssert.Equal(byInt, F.Conv2d(x, w, padding: "same"));
        TensorAssert.Equal(byInt, F.Conv2d(x, w, null, (1, 1), Padding2d.Same, (1, 1)));
        Assert.Equal(new TensorShape(2, 4, 5, 4), F.Conv2d(x, w, padding: "valid").Shape);
    }

    [Fact]
    public void SameKeepsTheSizeForEvenKernelsAndDilation()
    {
        var x = Tensor.Ones(1, 2, 7, 5);
        Assert.Equal(new TensorShape(1, 3, 7, 5), F.Conv2d(x, Tensor.Ones(3, 2, 4, 2), padding: "same").Shape);
        Assert.Equal(new TensorShape(1, 3, 7, 5), F.Conv2d(x, Tensor.Ones(3, 2, 3, 3), padding: "same", dilation: 3).Shape);
    }
}
