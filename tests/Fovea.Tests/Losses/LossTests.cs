using Fovea;
using Fovea.Tests.Support;

namespace Fovea.Tests.Losses;

public class LossTests
{
    public static TheoryData<string> Cases => Fixture.Names("loss");

    private static Tensor Apply(FixtureCase c, Dictionary<string, Tensor> i)
    {
        var reduction = Enum.Parse<Reduction>(c.String("reduction")!, ignoreCase: true);
        return c.Op switch
        {
            "CrossEntropy" => F.CrossEntropy(i["logits"], c.IntInputs["targets"], c.Float("label_smoothing"), reduction),
            "Mse" => F.Mse(i["input"], i["target"], reduction),
            _ => throw new InvalidOperationException(c.Op),
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        var c = Fixture.Get("loss", name);
        Fixture.Check(c, i => Apply(c, i));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PassesGradCheck(string name)
    {
        var c = Fixture.Get("loss", name);
        var names = c.Inputs.Keys.ToArray();
        GradCheck.Check(t => Apply(c, names.Zip(t).ToDictionary(p => p.First, p => p.Second)),
            c.Inputs.Values.Select(v => v.Clone()).ToArray(), what: name);
    }

    [Fact]
    public void CrossEntropyGradientIsSoftmaxMinusSmoothedTargetOverN()
    {
        var logits = Tensor.Normal(new TensorShape(4, 5), 0, 1, new Rng(2));
        logits.RequiresGrad = true;
        int[] targets = [3, 0, 4, 4];
        F.CrossEntropy(logits, targets, labelSmoothing: 0.1f).Backward();
        var p = F.Softmax(logits.Detach());
        for (int n = 0; n < 4; n++)
            for (int c = 0; c < 5; c++)
            {
                float q = 0.1f / 5 + (c == targets[n] ? 0.9f : 0f);
                Assert.Equal((p[n, c] - q) / 4, logits.Grad![n, c], 1e-6f);
            }
    }

    [Fact]
    public void CrossEntropyIsStableForHugeLogits()
    {
        var loss = F.CrossEntropy(Tensor.FromArray([1000f, -1000f, 0f], 1, 3), [1]).Item();
        Assert.Equal(2000f, loss, 1e-2f);
    }

    [Fact]
    public void MisuseNamesTheOpAndShapes()
    {
        var logits = Tensor.Zeros(3, 5);
        var e = Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, [1, 2]));
        Assert.Contains("CrossEntropy", e.Message);
        Assert.Contains("[3, 5]", e.Message);
        Assert.Contains("received 2", e.Message);

        e = Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, [1, 5, 0]));
        Assert.Contains("target 5 at index 1", e.Message);
        Assert.Contains("5 classes", e.Message);
        e = Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, [-1, 0, 0]));
        Assert.Contains("target -1 at index 0", e.Message);

        e = Assert.Throws<ArgumentException>(() => F.CrossEntropy(Tensor.Zeros(5), [0]));
        Assert.Contains("[5]", e.Message);
        Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, [0, 0, 0], labelSmoothing: 1.5f));

        e = Assert.Throws<ArgumentException>(() => F.Mse(Tensor.Zeros(2, 3), Tensor.Zeros(3, 2)));
        Assert.Contains("Mse", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[3, 2]", e.Message);
    }
}
