using System.Text.Json.Nodes;
using Fovea.Nn;
using Fovea.Tests.Support;

namespace Fovea.Tests.Conv;

public class LocallyConnected2dTests
{
    public static TheoryData<string> Cases => ConvFixtures.Names("LocallyConnected2d");

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
    public void WithTheSameWeightsAtEveryPositionItIsAConvolution()
    {
        var rng = new Rng(11);
        var x = Tensor.Normal(new TensorShape(2, 3, 9, 7), 0, 1, rng);
        var w = Tensor.Normal(new TensorShape(4, 3, 3, 2), 0, 1, rng);
        var b = Tensor.Normal(new TensorShape(4), 0, 1, rng);
        var conv = F.Conv2d(x, w, b, (2, 1), (1, 0), (1, 2));
        int outH = conv.Shape[2], outW = conv.Shape[3], positions = outH * outW;

        var shared = Tensor.Empty(positions, 4, 18);
        for (int p = 0; p < positions; p++) w.Span.CopyTo(shared.Span.Slice(p * w.Length, w.Length));
        var sharedBias = Tensor.Empty(4, outH, outW);
        for (int o = 0; o < 4; o++) sharedBias.Span.Slice(o * positions, positions).Fill(b.Span[o]);

        TensorAssert.Close(conv, F.LocallyConnected2d(x, shared, sharedBias, (3, 2), (2, 1), (1, 0), (1, 2)), 1e-5, 1e-5);
    }

    [Fact]
    public void LayerHasOneMatrixPerPositionAndPyTorchInit()
    {
        var layer = new LocallyConnected2d(3, 5, (7, 6), kernelSize: 3, padding: 1, rng: new Rng(1));
        Assert.Equal((7, 6), layer.OutputSize);
        Assert.Equal(new TensorShape(42, 5, 27), layer.Weight.Shape);
        Assert.Equal(new TensorShape(5, 7, 6), layer.Bias!.Shape);
        Assert.Equal(["weight", "bias"], layer.NamedParameters().Select(p => p.Name));
        float bound = 1f / MathF.Sqrt(27);
        Assert.All(layer.Weight.ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.All(layer.Bias.ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.Equal(new TensorShape(2, 5, 7, 6), layer.Forward(Tensor.Ones(2, 3, 7, 6)).Shape);
    }

    [Fact]
    public void LayerSpecRoundTrips()
    {
        var layer = new LocallyConnected2d(2, 4, (9, 8), (3, 2), (2, 1), (1, 0), (1, 2), bias: false, rng: new Rng(1));
        var spec = layer.ToSpec();
        Assert.Equal("LocallyConnected2d", spec["type"]!.GetValue<string>());
        Assert.Equal(9, spec["in_height"]!.GetValue<int>());
        Assert.Equal(8, spec["in_width"]!.GetValue<int>());
        var rebuilt = (LocallyConnected2d)ModuleSpec.FromJson(ModuleSpec.ToJson(layer), new Rng(2));
        Assert.Equal(layer.ToString(), rebuilt.ToString());
        Assert.Equal(layer.Weight.Shape, rebuilt.Weight.Shape);
        Assert.Null(rebuilt.Bias);
        Assert.Equal(ModuleSpec.ToJson(layer), ModuleSpec.ToJson(rebuilt));

        var same = (LocallyConnected2d)ModuleSpec.Build(new JsonObject
        {
            ["type"] = "LocallyConnected2d", ["in_channels"] = 1, ["out_channels"] = 2, ["in_height"] = 5, ["in_width"] = 5,
            ["kernel_size"] = 2, ["padding"] = "same",
        }, new Rng(3));
        Assert.Equal((5, 5), same.OutputSize);
        Assert.Equal("LocallyConnected2d(1→2, in=5×5, k=2, s=1, p=same)", same.ToString());
    }

    [Fact]
    public void MisuseNamesTheLayerAndShapes()
    {
        var layer = new LocallyConnected2d(3, 16, (28, 28), 3, rng: new Rng(1));
        var e = Assert.Throws<ArgumentException>(() => layer.Forward(Tensor.Zeros(8, 3, 30, 30)));
        Assert.Equal("LocallyConnected2d(3→16, in=28×28, k=3, s=1, p=0): expected input [N, 3, 28, 28], received [8, 3, 30, 30]", e.Message);

        e = Assert.Throws<ArgumentException>(() => F.LocallyConnected2d(Tensor.Zeros(2, 3, 8, 8), Tensor.Zeros(35, 16, 27), null, 3));
        Assert.Equal("LocallyConnected2d(3→16): weight [35, 16, 27] holds 35 positions but input [2, 3, 8, 8] gives a 6×6 output; expected weight [36, 16, 27]", e.Message);

        e = Assert.Throws<ArgumentException>(() => F.LocallyConnected2d(Tensor.Zeros(2, 3, 8, 8), Tensor.Zeros(36, 16, 26), null, 3));
        Assert.Contains("in_channels·3·3", e.Message);

        e = Assert.Throws<ArgumentException>(() => F.LocallyConnected2d(Tensor.Zeros(2, 3, 8, 8), Tensor.Zeros(36, 16, 27), Tensor.Zeros(16), 3));
        Assert.Equal("LocallyConnected2d(3→16): bias must be [16, 6, 6]. Received [16]", e.Message);

        e = Assert.Throws<ArgumentException>(() => new LocallyConnected2d(3, 16, (2, 2), 3));
        Assert.StartsWith("LocallyConnected2d(3→16, in=2×2, k=3", e.Message);
        Assert.Contains("does not fit", e.Message);
    }
}
