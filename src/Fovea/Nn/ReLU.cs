using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>max(x, 0).</summary>
public sealed class ReLU : Module
{
    public override Tensor Forward(Tensor input) => F.Relu(input);
    public override JsonObject ToSpec() => new() { ["type"] = nameof(ReLU) };
    public static ReLU FromSpec(JsonObject spec, Rng rng) => new();
}
