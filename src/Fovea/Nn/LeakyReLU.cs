using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>x where x &gt; 0, otherwise negative_slope·x.</summary>
public sealed class LeakyReLU(float negativeSlope = 0.01f) : Module
{
    public float NegativeSlope { get; } = negativeSlope;
    public override Tensor Forward(Tensor input) => F.LeakyRelu(input, NegativeSlope);
    public override string ToString() => $"LeakyReLU({NegativeSlope})";
    public override JsonObject ToSpec() => new() { ["type"] = nameof(LeakyReLU), ["negative_slope"] = NegativeSlope };
    public static LeakyReLU FromSpec(JsonObject spec, Rng rng) => new(ModuleSpec.Float(spec, "negative_slope", 0.01f));
}
