using Fovea;
using Fovea.Tests.Support;

namespace Fovea.Tests.Shape;

public class ShapeTests
{
    public static TheoryData<string> Cases => Fixture.Names("shape");

    private static Tensor Run(FixtureCase c, IReadOnlyDictionary<string, Tensor> i) => c.Op switch
    {
        "Pad" => F.Pad(i["x"], c.Ints("pads", []), c.Float("value")),
        "Flatten" => F.Flatten(i["x"], c.Int("start_dim"), c.Int("end_dim")),
        "Reshape" => F.Reshape(i["x"], c.Ints("shape", [])),
        "Concat" => F.Concat(i.Keys.Order().Select(k => i[k]).ToArray(), c.Int("axis")),
        "Add" => F.Add(i["a"], i["b"]),
        "Sub" => F.Sub(i["a"], i["b"]),
        "Mul" => F.Mul(i["a"], i["b"]),
        "Div" => F.Div(i["a"], i["b"]),
        "AddScalar" => F.Add(i["x"], c.Float("c")),
        "MulScalar" => F.Mul(i["x"], c.Float("c")),
        _ => throw new InvalidOperationException(c.Op),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        var c = Fixture.Get("shape", name);
        Fixture.Check(c, i => Run(c, i));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PassesGradCheck(string name)
    {
        var c = Fixture.Get("shape", name);
        var names = c.Inputs.Keys.ToArray();
        GradCheck.Check(t => Run(c, names.Zip(t).ToDictionary(p => p.First, p => p.Second)),
            c.Inputs.Values.Select(v => v.Clone()).ToArray(), what: name);
    }

    [Fact]
    public void SameTensorOnBothSidesGetsBothGradients()
    {
        var x = Tensor.FromArray([1f, -2f, 3f], 3);
        x.RequiresGrad = true;
        F.Sum(F.Mul(x, x)).Backward();
        Assert.Equal([2f, -4f, 6f], x.Grad!.ToArray());
    }

    [Fact]
    public void BroadcastErrorNamesBothShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => F.Add(Tensor.Zeros(2, 3), Tensor.Zeros(4)));
        Assert.StartsWith("Add: shapes [2, 3] and [4] do not broadcast", e.Message);
        e = Assert.Throws<ArgumentException>(() => F.Div(Tensor.Zeros(2, 3, 4), Tensor.Zeros(3, 1, 1)));
        Assert.StartsWith("Div: shapes [2, 3, 4] and [3, 1, 1] do not broadcast", e.Message);
    }

    [Fact]
    public void PadMisuseNamesPadsAndShape()
    {
        var e = Assert.Throws<ArgumentException>(() => F.Pad(Tensor.Zeros(2, 3), [1, 1, 1]));
        Assert.Contains("Pad([1, 1, 1])", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        e = Assert.Throws<ArgumentException>(() => F.Pad(Tensor.Zeros(2, 3), [-2, -1]));
        Assert.Equal("Pad([-2, -1]): dimension 1 of input [2, 3] would have size 0", e.Message);
    }

    [Fact]
    public void CropPastTheInputLeavesOnlyTheFillValue()
    {
        var y = F.Pad(Tensor.Ones(1, 2), [-2, 3], value: 7f);
        Assert.Equal([7f, 7f, 7f], y.ToArray());
    }

    [Fact]
    public void ReshapeMisuseNamesTheShapes()
    {
        var x = Tensor.Zeros(2, 3);
        Assert.Equal("Reshape([4, -1]): cannot hold the 6 elements of input [2, 3]", Assert.Throws<ArgumentException>(() => F.Reshape(x, 4, -1)).Message);
        Assert.Contains("at most one -1", Assert.Throws<ArgumentException>(() => F.Reshape(x, -1, -1)).Message);
        Assert.Throws<ArgumentException>(() => F.Reshape(x, 5));
        Assert.Equal(new TensorShape(3, 2), F.Reshape(x, 3, 2).Shape);
    }

    [Fact]
    public void FlattenMisuseNamesTheDimensions()
    {
        var e = Assert.Throws<ArgumentException>(() => F.Flatten(Tensor.Zeros(2, 3), 2));
        Assert.Equal("Flatten(start_dim=2, end_dim=-1): invalid dimensions for input [2, 3]", e.Message);
        Assert.Throws<ArgumentException>(() => F.Flatten(Tensor.Zeros(2, 3, 4), 2, 1));
        Assert.Equal(new TensorShape(2), F.Flatten(Tensor.Zeros(2), 0).Shape);
    }

    [Fact]
    public void ConcatSplitAcrossThreadsKeepsEveryBlockInPlace()
    {
        // 300 blocks of 300 floats: enough for the copy to be shared among threads.
        using var a = Tensor.Normal(new TensorShape(300, 2, 60), 0, 1, new Rng(1));
        using var b = Tensor.Normal(new TensorShape(300, 3, 60), 0, 1, new Rng(2));
        using var threads = Parallelism.UseThreads(2);
        using var y = F.Concat([a, b], axis: 1);
        Assert.Equal(new TensorShape(300, 5, 60), y.Shape);
        for (int o = 0; o < 300; o++)
        {
            Assert.Equal(a.Span.Slice(o * 120, 120).ToArray(), y.Span.Slice(o * 300, 120).ToArray());
            Assert.Equal(b.Span.Slice(o * 180, 180).ToArray(), y.Span.Slice(o * 300 + 120, 180).ToArray());
        }
    }

    [Fact]
    public void ConcatMisuseNamesTheShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => F.Concat([Tensor.Zeros(2, 3, 5), Tensor.Zeros(2, 4, 3)]));
        Assert.Equal("Concat(axis=1): shapes [2, 3, 5] and [2, 4, 3] differ outside axis 1", e.Message);
        Assert.Throws<ArgumentException>(() => F.Concat([Tensor.Zeros(2, 3)], axis: 2));
        Assert.Throws<ArgumentException>(() => F.Concat([]));
    }
}
