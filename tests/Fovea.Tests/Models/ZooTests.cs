using Fovea;
using Fovea.Nn;
using Fovea.Optim;
using Fovea.Serialization;
using Fovea.Tests.Support;

namespace Fovea.Tests.Models;

public class ZooTests
{
    public static TheoryData<string> Names => new(Zoo.Names);

    [Theory]
    [MemberData(nameof(Names))]
    public void EveryModelClassifiesGrayAndColourImages(string name)
    {
        foreach (var (c, h, w) in new[] { (1, 28, 28), (3, 32, 32) })
        {
            var model = Zoo.Create(name, c, h, w, rng: new Rng(1));
            using var _ = Autograd.NoGrad();
            var y = model.Forward(Tensor.Normal(new TensorShape(2, c, h, w), 0, 1, new Rng(2)));
            Assert.Equal(new TensorShape(2, 10), y.Shape);
            Assert.All(y.ToArray(), v => Assert.True(float.IsFinite(v)));
        }
    }

    [Theory]
    [InlineData("mlp", 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10)]
    [InlineData("cnn-small", (9 * 32 + 32) + (9 * 32 * 64 + 64) + (64 * 7 * 7 * 128 + 128) + (128 * 10 + 10))]
    [InlineData("lenet5", (25 * 6 + 6) + (25 * 6 * 16 + 16) + (16 * 5 * 5 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10))]
    [InlineData("lc-small", (28 * 28 * 32 * 9 + 32 * 28 * 28) + (14 * 14 * 64 * 288 + 64 * 14 * 14) + (64 * 7 * 7 * 128 + 128) + 1290)]
    public void ParameterCountsMatchTheArchitecture(string name, long expected) =>
        Assert.Equal(expected, Zoo.Create(name, rng: new Rng(1)).ParameterCount());

    [Fact]
    public void CnnTinyStaysUnderOneHundredThousandParameters() =>
        Assert.InRange(Zoo.Create("cnn-tiny", rng: new Rng(1)).ParameterCount(), 1, 99_999);

    [Fact]
    public void ResNetsHaveTheirDepth()
    {
        static int Convs(Module m) => m.NamedModules().Count(x => x.Module is Conv2d c && c.ToString().Contains("k=3"));
        Assert.Equal(7, Convs(Zoo.Create("resnet8", 3, 32, 32, rng: new Rng(1))));   // 1 + 3 stages × 1 block × 2
        Assert.Equal(19, Convs(Zoo.Create("resnet20", 3, 32, 32, rng: new Rng(1)))); // 1 + 3 stages × 3 blocks × 2
    }

    [Fact]
    public void UnknownNamesListTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => Zoo.Create("vgg99"));
        Assert.Contains("vgg99", e.Message);
        Assert.Contains("cnn-small", e.Message);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void SpecRoundTripsThroughJsonAndAFile(string name)
    {
        var model = Zoo.Create(name, 1, 16, 16, rng: new Rng(3));
        model.Eval();
        var json = ModuleSpec.ToJson(model);
        var rebuilt = ModuleSpec.FromJson(json, new Rng(4));
        Assert.Equal(json, ModuleSpec.ToJson(rebuilt));
        Assert.Equal(model.StateDict().Keys, rebuilt.StateDict().Keys);

        var path = Path.Combine(Path.GetTempPath(), $"fovea-zoo-{Guid.NewGuid():N}.safetensors");
        try
        {
            ModelFile.Save(path, model);
            var loaded = ModelFile.Load(path);
            loaded.Eval();
            var x = Tensor.Normal(new TensorShape(3, 1, 16, 16), 0, 1, new Rng(5));
            using var _ = Autograd.NoGrad();
            TensorAssert.Equal(model.Forward(x), loaded.Forward(x), $"{name} logits after reload");
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>Same seed and thread count → the same bits, through init, dropout, BN, conv, pooling and the optimizer.</summary>
public class DeterminismTests
{
    private static float[] Train(string name, int threads)
    {
        using var _ = Parallelism.UseThreads(threads);
        var rng = new Rng(11);
        var model = Zoo.Create(name, 1, 16, 16, rng: rng);
        var optimizer = new SGD(model.Parameters(), 0.05, momentum: 0.9);
        var x = Tensor.Normal(new TensorShape(8, 1, 16, 16), 0, 1, rng);
        int[] labels = [0, 1, 2, 3, 4, 5, 6, 7];
        for (int step = 0; step < 3; step++)
        {
            optimizer.ZeroGrad();
            F.CrossEntropy(model.Forward(x), labels).Backward();
            optimizer.Step();
        }
        return model.StateDict().Values.SelectMany(t => t.ToArray()).ToArray();
    }

    [Theory]
    [InlineData("cnn-bn")]
    [InlineData("resnet8")]
    [InlineData("lc-small")]
    public void SameSeedAndThreadsGiveTheSameBits(string name)
    {
        Assert.Equal(Train(name, 2), Train(name, 2));
        Assert.Equal(Train(name, 1), Train(name, 1));
    }
}
