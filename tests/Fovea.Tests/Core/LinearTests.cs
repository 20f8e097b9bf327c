using Fovea;
using Fovea.Tests.Support;

namespace Fovea.Tests.Core;

public class LinearTests
{
    public static TheoryData<string> Cases => Fixture.Names("linear");

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        var c = Fixture.Get("linear", name);
        Fixture.Check(c, i => c.Op switch
        {
            "Linear" => F.Linear(i["x"], i["weight"], i.GetValueOrDefault("bias")),
            "MatMul" => F.MatMul(i["a"], i["b"]),
            _ => throw new InvalidOperationException(c.Op),
        });
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PassesGradCheck(string name)
    {
        var c = Fixture.Get("linear", name);
        var names = c.Inputs.Keys.ToArray();
        GradCheck.Check(t =>
        {
            var i = names.Zip(t).ToDictionary(p => p.First, p => p.Second);
            return c.Op == "Linear" ? F.Linear(i["x"], i["weight"], i.GetValueOrDefault("bias")) : F.MatMul(i["a"], i["b"]);
        }, c.Inputs.Values.Select(v => v.Clone()).ToArray(), what: name);
    }

    [Fact]
    public void MisuseNamesTheLayerAndShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => F.Linear(Tensor.Zeros(8, 5), Tensor.Zeros(3, 4)));
        Assert.Contains("Linear(4→3)", e.Message);
        Assert.Contains("[8, 5]", e.Message);
    }
}
