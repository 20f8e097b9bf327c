using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>1 / (1 + e⁻ˣ).</summary>
public sealed class Sigmoid : Module
{
    public override Tensor Forward(Tensor input) => F.Sigmoid(input);
    public override JsonObject ToSpec() => new() { ["type"] = nameof(Sigmoid) };
    public static Sigmoid FromSpec(JsonObject spec, Rng rng) => new();
}
