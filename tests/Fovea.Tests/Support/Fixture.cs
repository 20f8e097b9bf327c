using System.Text.Json.Nodes;
using Fovea;

namespace Fovea.Tests.Support;

/// <summary>One PyTorch reference case written by Fixtures/gen_*.py (see fixturelib.py for the format).</summary>
public sealed class FixtureCase
{
    public required string Name { get; init; }
    public required string Op { get; init; }
    public required JsonObject Params { get; init; }
    public required Dictionary<string, Tensor> Inputs { get; init; }
    public required Dictionary<string, int[]> IntInputs { get; init; }
    public required Tensor Output { get; init; }
    public required Tensor GradOutput { get; init; }
    public required Dictionary<string, Tensor> Grads { get; init; }

    public override string ToString() => Name;

    public Tensor? Input(string name) => Inputs.GetValueOrDefault(name);
    public int Int(string key, int fallback = 0) => Params[key]?.GetValue<int>() ?? fallback;
    public float Float(string key, float fallback = 0) => Params[key]?.GetValue<float>() ?? fallback;
    public bool Bool(string key, bool fallback = false) => Params[key]?.GetValue<bool>() ?? fallback;
    public string? String(string key) => Params[key]?.GetValue<string>();
    public int[] Ints(string key, int[] fallback) => Params[key] is JsonArray a ? a.Select(n => n!.GetValue<int>()).ToArray() : fallback;
}

public static class Fixture
{
    private static readonly Dictionary<string, List<FixtureCase>> Cache = [];

    /// <summary>All cases of Fixtures/<paramref name="family"/>.json.</summary>
    public static IReadOnlyList<FixtureCase> Load(string family)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(family, out var cached)) return cached;
            var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", family + ".json");
            var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            var cases = root["cases"]!.AsArray().Select(c => Parse(c!.AsObject())).ToList();
            Cache[family] = cases;
            return cases;
        }
    }

    /// <summary>Case names of a family, as xunit theory data.</summary>
    public static TheoryData<string> Names(string family)
    {
        var data = new TheoryData<string>();
        foreach (var c in Load(family)) data.Add(c.Name);
        return data;
    }

    public static FixtureCase Get(string family, string name) => Load(family).Single(c => c.Name == name);

    private static FixtureCase Parse(JsonObject o)
    {
        var inputs = new Dictionary<string, Tensor>();
        var ints = new Dictionary<string, int[]>();
        foreach (var (k, v) in o["inputs"]!.AsObject())
        {
            if (v!["ints"] is JsonArray ia) ints[k] = ia.Select(n => n!.GetValue<int>()).ToArray();
            else inputs[k] = ToTensor(v.AsObject());
        }
        return new FixtureCase
        {
            Name = o["name"]!.GetValue<string>(),
            Op = o["op"]!.GetValue<string>(),
            Params = o["params"]!.AsObject(),
            Inputs = inputs,
            IntInputs = ints,
            Output = ToTensor(o["output"]!.AsObject()),
            GradOutput = ToTensor(o["grad_output"]!.AsObject()),
            Grads = o["grads"]!.AsObject().ToDictionary(kv => kv.Key, kv => ToTensor(kv.Value!.AsObject())),
        };
    }

    public static Tensor ToTensor(JsonObject o)
    {
        var shape = o["shape"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray();
        var data = o["data"]!.AsArray().Select(n => (float)n!.GetValue<double>()).ToArray();
        return Tensor.FromArray(data, shape);
    }

    /// <summary>
    /// Replays <paramref name="c"/>: fresh copies of its float inputs (requiring grad) go through
    /// <paramref name="op"/>; output and every input gradient must match PyTorch within the tolerances.
    /// </summary>
    public static void Check(FixtureCase c, Func<Dictionary<string, Tensor>, Tensor> op, double rtol = 1e-4, double atol = 1e-5)
    {
        var inputs = c.Inputs.ToDictionary(kv => kv.Key, kv => { var t = kv.Value.Clone(); t.RequiresGrad = true; return t; });
        var y = op(inputs);
        TensorAssert.Close(c.Output, y, rtol, atol, $"{c.Name}: output");
        y.Backward(c.GradOutput);
        foreach (var (name, expected) in c.Grads)
        {
            var actual = inputs[name].Grad ?? Tensor.Zeros(expected.Shape);
            TensorAssert.Close(expected, actual, rtol, atol, $"{c.Name}: gradient of {name}");
        }
    }
}
