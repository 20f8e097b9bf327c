using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>x where x &gt; 0, otherwise alpha·(eˣ − 1).</summary>
public sealed class ELU(float alpha = 1f) : Module
{
    public float Alpha { get; } = alpha;
    public override Tensor Forward(Tensor input) => F.Elu(input, Alpha);
    public override string ToString() => $"ELU({Alpha})";
    public override JsonObject ToSpec() => new() { ["type"] = nameof(ELU), ["alpha"] = Alpha };
    public static ELU FromSpec(JsonObject spec, Rng rng) => new(ModuleSpec.Float(spec, "alpha", 1f));
}
