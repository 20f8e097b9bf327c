using Fovea;
using Fovea.Tests.Support;

namespace Fovea.Tests.Activations;

public class ActivationTests
{
    public static TheoryData<string> Cases => Fixture.Names("activations");

    private static Tensor Apply(FixtureCase c, Tensor x) => c.Op switch
    {
        "Relu" => F.Relu(x),
        "LeakyRelu" => F.LeakyRelu(x, c.Float("negative_slope")),
        "Elu" => F.Elu(x, c.Float("alpha")),
        "Gelu" => F.Gelu(x, c.String("approximate")!),
        "Sigmoid" => F.Sigmoid(x),
        "Tanh" => F.Tanh(x),
        "Softmax" => F.Softmax(x, c.Int("dim")),
        "LogSoftmax" => F.LogSoftmax(x, c.Int("dim")),
        _ => throw new InvalidOperationException(c.Op),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        var c = Fixture.Get("activations", name);
        Fixture.Check(c, i => Apply(c, i["x"]));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PassesGradCheck(string name)
    {
        var c = Fixture.Get("activations", name);
        GradCheck.Check(t => Apply(c, t[0]), [c.Inputs["x"].Clone()], what: name);
    }

    [Fact]
    public void SoftmaxIsStableForHugeLogits()
    {
        var x = Tensor.FromArray([1000f, 1001f, -1000f], 1, 3);
        var p = F.Softmax(x).ToArray();
        var logP = F.LogSoftmax(x).ToArray();
        Assert.All(p.Concat(logP.Take(2)), v => Assert.True(float.IsFinite(v)));
        Assert.Equal(1f / (1f + MathF.E), p[0], 1e-6f);
        Assert.Equal(-2000f - MathF.Log(1f + MathF.E), logP[2], 1e-2f);
    }

    [Fact]
    public void LargeTensorsSplitAcrossThreadsGiveTheSameBits()
    {
        var x = Tensor.Normal(new TensorShape(3, 70_001), 0, 3, new Rng(1));
        Tensor[] Run(int threads)
        {
            using var _ = Parallelism.UseThreads(threads);
            var input = x.Clone();
            input.RequiresGrad = true;
            var outputs = new[] { F.Gelu(input), F.Elu(input), F.Softmax(input, 0), F.LogSoftmax(input, -1) };
            foreach (var y in outputs) y.Backward(Tensor.Full(y.Shape, 0.5f));
            return [.. outputs, input.Grad!];
        }
        var one = Run(1);
        var four = Run(4);
        for (int i = 0; i < one.Length; i++) TensorAssert.Equal(one[i], four[i], $"result {i}");
    }

    [Fact]
    public void MisuseNamesTheOpAndShape()
    {
        var e = Assert.Throws<ArgumentException>(() => F.Softmax(Tensor.Zeros(2, 3), 2));
        Assert.Contains("Softmax", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        e = Assert.Throws<ArgumentException>(() => F.LogSoftmax(Tensor.Zeros(2, 3), -3));
        Assert.Contains("LogSoftmax", e.Message);
        e = Assert.Throws<ArgumentException>(() => F.Gelu(Tensor.Zeros(2), "erf"));
        Assert.Contains("\"erf\"", e.Message);
    }
}
