using System.Text.Json.Nodes;
using Fovea.Tests.Support;

namespace Fovea.Tests.Conv;

/// <summary>Reads the cases of Fixtures/conv.json (written by gen_conv.py) and replays them through F.</summary>
internal static class ConvFixtures
{
    public const string Family = "conv";

    public static TheoryData<string> Names(string op)
    {
        var data = new TheoryData<string>();
        foreach (var c in Fixture.Load(Family).Where(c => c.Op == op)) data.Add(c.Name);
        return data;
    }

    /// <summary>Calls the case's op on <paramref name="inputs"/> (x, weight and optionally bias) with the case's parameters.</summary>
    public static Tensor Run(FixtureCase c, IReadOnlyDictionary<string, Tensor> inputs)
    {
        var bias = inputs.GetValueOrDefault("bias");
        return c.Op switch
        {
            "Conv2d" => F.Conv2d(inputs["x"], inputs["weight"], bias, Pair(c, "stride"), Padding(c), Pair(c, "dilation"), c.Int("groups", 1)),
            "LocallyConnected2d" => F.LocallyConnected2d(inputs["x"], inputs["weight"], bias, Pair(c, "kernel"), Pair(c, "stride"), Padding(c), Pair(c, "dilation")),
            _ => throw new InvalidOperationException(c.Op),
        };
    }

    /// <summary>Finite differences on every input of the case (its shapes are small enough).</summary>
    public static void GradCheckCase(FixtureCase c)
    {
        var names = c.Inputs.Keys.ToArray();
        GradCheck.Check(t => Run(c, names.Zip(t).ToDictionary(p => p.First, p => p.Second)),
            c.Inputs.Values.Select(v => v.Clone()).ToArray(), what: c.Name);
    }

    private static (int, int) Pair(FixtureCase c, string key)
    {
        var p = c.Ints(key, [1, 1]);
        return (p[0], p[1]);
    }

    private static Padding2d Padding(FixtureCase c) =>
        c.Params["padding"] is JsonArray a ? (a[0]!.GetValue<int>(), a[1]!.GetValue<int>()) : Padding2d.Parse(c.String("padding")!);
}
