using Fovea;
using Fovea.Nn;
using Fovea.Tests.Support;

namespace Fovea.Tests.Shape;

public class ShapeLayerTests
{
    private static readonly Tensor Input = Tensor.Normal(new TensorShape(2, 3, 4, 5), 0, 1, new Rng(12));

    public static TheoryData<string> Layers => new()
    {
        "Flatten(start_dim=1, end_dim=-1)",
        "Flatten(start_dim=2, end_dim=3)",
        "ZeroPad2d([1, 1, 1, 1])",
        "ZeroPad2d([1, -1, 0, 2])",
        "ConstantPad2d([2, 0, 1, 3], value=-0.5)",
    };

    private static Module Make(string description) => description switch
    {
        "Flatten(start_dim=1, end_dim=-1)" => new Nn.Flatten(),
        "Flatten(start_dim=2, end_dim=3)" => new Nn.Flatten(2, 3),
        "ZeroPad2d([1, 1, 1, 1])" => new ZeroPad2d(1),
        "ZeroPad2d([1, -1, 0, 2])" => new ZeroPad2d([1, -1, 0, 2]),
        "ConstantPad2d([2, 0, 1, 3], value=-0.5)" => new ConstantPad2d([2, 0, 1, 3], -0.5f),
        _ => throw new ArgumentOutOfRangeException(description),
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void DescribesItselfAndRoundTripsThroughItsSpec(string description)
    {
        var layer = Make(description);
        Assert.Equal(description, layer.ToString());
        var rebuilt = ModuleSpec.FromJson(ModuleSpec.ToJson(layer), new Rng(0));
        Assert.Equal(layer.GetType(), rebuilt.GetType());
        Assert.Equal(ModuleSpec.ToJson(layer), ModuleSpec.ToJson(rebuilt));
        TensorAssert.Equal(layer.Forward(Input), rebuilt.Forward(Input));
    }

    [Fact]
    public void SpecUsesPyTorchArgumentNames()
    {
        Assert.Equal("""{"type":"Flatten","start_dim":1,"end_dim":-1}""", ModuleSpec.ToJson(new Nn.Flatten()));
        Assert.Equal("""{"type":"ZeroPad2d","padding":2}""", ModuleSpec.ToJson(new ZeroPad2d(2)));
        Assert.Equal("""{"type":"ConstantPad2d","padding":[1,2,3,4],"value":1.5}""", ModuleSpec.ToJson(new ConstantPad2d([1, 2, 3, 4], 1.5f)));
    }

    [Fact]
    public void PadLayersPadWidthThenHeight()
    {
        var y = new ZeroPad2d([1, 2, 3, 0]).Forward(Input);
        Assert.Equal(new TensorShape(2, 3, 7, 8), y.Shape);
        Assert.Equal(Input[0, 0, 0, 0], y[0, 0, 3, 1]);
        Assert.Throws<ArgumentException>(() => new ConstantPad2d([1, 2], 0f));
    }
}
