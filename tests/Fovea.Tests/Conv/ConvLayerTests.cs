using System.Text.Json.Nodes;
using Fovea.Nn;
using Fovea.Tests.Support;

namespace Fovea.Tests.Conv;

public class ConvLayerTests
{
    [Fact]
    public void ParametersHavePyTorchNamesShapesAndInit()
    {
        var layer = new Conv2d(4, 6, 3, groups: 2, rng: new Rng(1));
        Assert.Equal(["weight", "bias"], layer.NamedParameters().Select(p => p.Name));
        Assert.Equal(new TensorShape(6, 2, 3, 3), layer.Weight.Shape);
        Assert.Equal(new TensorShape(6), layer.Bias!.Shape);
        float bound = 1f / MathF.Sqrt(2 * 3 * 3); // fan_in = (in / groups)·kH·kW
        Assert.All(layer.Weight.ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.All(layer.Bias.ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.True(layer.Weight.ToArray().Max() > bound * 0.8f);
        Assert.Null(new Conv2d(1, 2, 3, bias: false).Bias);
    }

    [Fact]
    public void SameSeedSameWeights() =>
        TensorAssert.Equal(new Conv2d(3, 4, 3, rng: new Rng(9)).Weight, new Conv2d(3, 4, 3, rng: new Rng(9)).Weight);

    [Fact]
    public void ForwardIsFConv2dWithTheLayersArguments()
    {
        var layer = new Conv2d(2, 3, (3, 2), (2, 1), (1, 0), (1, 2), rng: new Rng(2));
        var x = Tensor.Normal(new TensorShape(2, 2, 9, 8), 0, 1, new Rng(3));
        TensorAssert.Equal(F.Conv2d(x, layer.Weight, layer.Bias, (2, 1), (1, 0), (1, 2)), layer.Forward(x));
    }

    [Theory]
    [InlineData("Conv2d(3→16, k=3, s=1, p=1)")]
    [InlineData("Conv2d(4→8, k=(3, 5), s=(2, 1), p=(1, 2), d=2, g=4, bias=false)")]
    [InlineData("Conv2d(3→16, k=3, s=1, p=same, d=(2, 1))")]
    public void DescriptionAndSpecRoundTrip(string description)
    {
        Conv2d layer = description switch
        {
            "Conv2d(3→16, k=3, s=1, p=1)" => new Conv2d(3, 16, 3, padding: 1),
            "Conv2d(3→16, k=3, s=1, p=same, d=(2, 1))" => new Conv2d(3, 16, (3, 3), (1, 1), "same", (2, 1)),
            _ => new Conv2d(4, 8, (3, 5), (2, 1), (1, 2), (2, 2), groups: 4, bias: false),
        };
        Assert.Equal(description, layer.ToString());
        var json = ModuleSpec.ToJson(layer);
        var rebuilt = (Conv2d)ModuleSpec.FromJson(json, new Rng(1));
        Assert.Equal(description, rebuilt.ToString());
        Assert.Equal(json, ModuleSpec.ToJson(rebuilt));
        Assert.Equal(layer.Weight.Shape, rebuilt.Weight.Shape);
    }

    [Fact]
    public void SpecUsesPyTorchArgumentNames()
    {
        var spec = new Conv2d(4, 8, (3, 5), (1, 1), "same", (1, 1), groups: 2).ToSpec();
        Assert.Equal("""{"type":"Conv2d","in_channels":4,"out_channels":8,"kernel_size":[3,5],"stride":1,"padding":"same","dilation":1,"groups":2,"bias":true}""",
            spec.ToJsonString());
        var minimal = (Conv2d)ModuleSpec.Build(new JsonObject { ["type"] = "Conv2d", ["in_channels"] = 1, ["out_channels"] = 2, ["kernel_size"] = 5 }, new Rng(1));
        Assert.Equal("Conv2d(1→2, k=5, s=1, p=0)", minimal.ToString());
    }
}
