using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>x·Φ(x) (approximate = "none") or its tanh approximation (approximate = "tanh").</summary>
public sealed class GELU : Module
{
    public string Approximate { get; }

    public GELU(string approximate = "none")
    {
        if (approximate is not ("none" or "tanh"))
            throw new ArgumentException($"GELU: approximate must be \"none\" or \"tanh\". Received \"{approximate}\"");
        Approximate = approximate;
    }

    public override Tensor Forward(Tensor input) => F.Gelu(input, Approximate);
    public override string ToString() => $"GELU({Approximate})";
    public override JsonObject ToSpec() => new() { ["type"] = nameof(GELU), ["approximate"] = Approximate };
    public static GELU FromSpec(JsonObject spec, Rng rng) => new(ModuleSpec.String(spec, "approximate") ?? "none");
}
