using Fovea;
using Fovea.Nn;
using Fovea.Tests.Support;

namespace Fovea.Tests.Activations;

public class ActivationLayerTests
{
    public static TheoryData<string> Specs => new()
    {
        """{"type":"ReLU"}""",
        """{"type":"LeakyReLU","negative_slope":0.2}""",
        """{"type":"ELU","alpha":0.5}""",
        """{"type":"GELU","approximate":"tanh"}""",
        """{"type":"Sigmoid"}""",
        """{"type":"Tanh"}""",
        """{"type":"Softmax","dim":1}""",
        """{"type":"LogSoftmax","dim":0}""",
        """{"type":"Dropout","p":0.25}""",
    };

    [Theory]
    [MemberData(nameof(Specs))]
    public void SpecRoundTrips(string json)
    {
        var layer = ModuleSpec.FromJson(json, new Rng(0));
        Assert.Equal(json, ModuleSpec.ToJson(layer));
    }

    [Fact]
    public void LayersCallTheirFunctionalOp()
    {
        var x = Tensor.Normal(new TensorShape(3, 5), 0, 2, new Rng(1));
        TensorAssert.Equal(F.LeakyRelu(x, 0.2f), new LeakyReLU(0.2f).Forward(x));
        TensorAssert.Equal(F.Elu(x, 0.5f), new ELU(0.5f).Forward(x));
        TensorAssert.Equal(F.Gelu(x, "tanh"), new GELU("tanh").Forward(x));
        TensorAssert.Equal(F.Gelu(x), new GELU().Forward(x));
        TensorAssert.Equal(F.Sigmoid(x), new Sigmoid().Forward(x));
        TensorAssert.Equal(F.Tanh(x), new Nn.Tanh().Forward(x));
        TensorAssert.Equal(F.Softmax(x, 0), new Nn.Softmax(0).Forward(x));
        TensorAssert.Equal(F.LogSoftmax(x), new Nn.LogSoftmax().Forward(x));
    }

    [Fact]
    public void DefaultsArePyTorchs()
    {
        Assert.Equal(0.01f, new LeakyReLU().NegativeSlope);
        Assert.Equal(1f, new ELU().Alpha);
        Assert.Equal("none", new GELU().Approximate);
        Assert.Equal(0.5f, new Nn.Dropout().P);
        Assert.Throws<ArgumentException>(() => new GELU("fast"));
    }
}
