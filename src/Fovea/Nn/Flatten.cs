using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>Merges dimensions start_dim…end_dim into one; by default [N, C, H, W] → [N, C·H·W].</summary>
public sealed class Flatten(int startDim = 1, int endDim = -1) : Module
{
    public int StartDim { get; } = startDim;
    public int EndDim { get; } = endDim;

    public override Tensor Forward(Tensor input) => F.Flatten(input, StartDim, EndDim);

    public override string ToString() => $"Flatten(start_dim={StartDim}, end_dim={EndDim})";

    public override JsonObject ToSpec() => new() { ["type"] = nameof(Flatten), ["start_dim"] = StartDim, ["end_dim"] = EndDim };

    public static Flatten FromSpec(JsonObject spec, Rng rng) => new(ModuleSpec.Int(spec, "start_dim", 1), ModuleSpec.Int(spec, "end_dim", -1));
}
