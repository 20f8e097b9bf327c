using Fovea;
using Fovea.Nn;
using Fovea.Tests.Support;

namespace Fovea.Tests.Pooling;

public class PoolingLayerTests
{
    private static readonly Tensor Input = Tensor.Normal(new TensorShape(2, 3, 9, 10), 0, 1, new Rng(11));

    public static TheoryData<string> Layers => new()
    {
        "MaxPool2d(k=2)",
        "MaxPool2d(k=(2, 3), s=(1, 2), p=1, d=2, ceil_mode=true)",
        "AvgPool2d(k=3, s=2, p=1, ceil_mode=true, count_include_pad=false)",
        "AvgPool2d(k=(3, 1))",
        "AdaptiveAvgPool2d(output=(3, 4))",
        "GlobalAvgPool2d",
    };

    private static Module Make(string description) => description switch
    {
        "MaxPool2d(k=2)" => new Nn.MaxPool2d(2),
        "MaxPool2d(k=(2, 3), s=(1, 2), p=1, d=2, ceil_mode=true)" => new Nn.MaxPool2d((2, 3), (1, 2), (1, 1), (2, 2), ceilMode: true),
        "AvgPool2d(k=3, s=2, p=1, ceil_mode=true, count_include_pad=false)" => new Nn.AvgPool2d(3, 2, 1, ceilMode: true, countIncludePad: false),
        "AvgPool2d(k=(3, 1))" => new Nn.AvgPool2d((3, 1), (0, 0), (0, 0)),
        "AdaptiveAvgPool2d(output=(3, 4))" => new Nn.AdaptiveAvgPool2d((3, 4)),
        "GlobalAvgPool2d" => new Nn.GlobalAvgPool2d(),
        _ => throw new ArgumentOutOfRangeException(description),
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void DescribesItselfAndRoundTripsThroughItsSpec(string description)
    {
        var layer = Make(description);
        Assert.Equal(description, layer.ToString());
        var rebuilt = ModuleSpec.FromJson(ModuleSpec.ToJson(layer), new Rng(0));
        Assert.Equal(ModuleSpec.ToJson(layer), ModuleSpec.ToJson(rebuilt));
        TensorAssert.Equal(layer.Forward(Input), rebuilt.Forward(Input));
        Assert.Empty(layer.Parameters());
    }

    [Fact]
    public void SpecUsesPyTorchArgumentNames()
    {
        Assert.Equal("""{"type":"MaxPool2d","kernel_size":3,"stride":2,"padding":1,"dilation":1,"ceil_mode":false}""", ModuleSpec.ToJson(new Nn.MaxPool2d(3, 2, 1)));
        Assert.Equal("""{"type":"AvgPool2d","kernel_size":[2,3],"stride":[2,3],"padding":0,"ceil_mode":false,"count_include_pad":true}""",
            ModuleSpec.ToJson(new Nn.AvgPool2d((2, 3), (0, 0), (0, 0))));
        Assert.Equal("""{"type":"AdaptiveAvgPool2d","output_size":1}""", ModuleSpec.ToJson(new Nn.AdaptiveAvgPool2d(1)));
    }

    [Fact]
    public void SpecWrittenByHandWithPyTorchDefaultsLoads()
    {
        var layer = (Nn.MaxPool2d)ModuleSpec.FromJson("""{"type":"MaxPool2d","kernel_size":[3,2]}""", new Rng(0));
        Assert.Equal((3, 2), layer.KernelSize);
        Assert.Equal((3, 2), layer.Stride);
        Assert.Equal((1, 1), layer.Dilation);
        Assert.Throws<InvalidDataException>(() => ModuleSpec.FromJson("""{"type":"AvgPool2d","kernel_size":[3,2,1]}""", new Rng(0)));
        Assert.Throws<InvalidDataException>(() => ModuleSpec.FromJson("""{"type":"AdaptiveAvgPool2d"}""", new Rng(0)));
    }

    [Fact]
    public void SequentialNamesTheFailingPoolingLayer()
    {
        var model = new Sequential(new Nn.MaxPool2d(2), new Nn.MaxPool2d(8));
        var e = Assert.Throws<ArgumentException>(() => model.Forward(Input));
        Assert.Contains("Layer 1 (MaxPool2d(k=8))", e.Message);
        Assert.Contains("[2, 3, 4, 5] is smaller than the window", e.Message);
    }
}
