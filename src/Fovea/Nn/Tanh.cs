using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>Hyperbolic tangent.</summary>
public sealed class Tanh : Module
{
    public override Tensor Forward(Tensor input) => F.Tanh(input);
    public override JsonObject ToSpec() => new() { ["type"] = nameof(Tanh) };
    public static Tanh FromSpec(JsonObject spec, Rng rng) => new();
}
