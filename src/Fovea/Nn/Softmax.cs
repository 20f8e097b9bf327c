using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>Softmax along <see cref="Dim"/>.</summary>
public sealed class Softmax(int dim = -1) : Module
{
    public int Dim { get; } = dim;
    public override Tensor Forward(Tensor input) => F.Softmax(input, Dim);
    public override string ToString() => $"Softmax(dim={Dim})";
    public override JsonObject ToSpec() => new() { ["type"] = nameof(Softmax), ["dim"] = Dim };
    public static Softmax FromSpec(JsonObject spec, Rng rng) => new(ModuleSpec.Int(spec, "dim", -1));
}
