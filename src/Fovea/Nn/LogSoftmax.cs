using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>Log-softmax along <see cref="Dim"/>.</summary>
public sealed class LogSoftmax(int dim = -1) : Module
{
    public int Dim { get; } = dim;
    public override Tensor Forward(Tensor input) => F.LogSoftmax(input, Dim);
    public override string ToString() => $"LogSoftmax(dim={Dim})";
    public override JsonObject ToSpec() => new() { ["type"] = nameof(LogSoftmax), ["dim"] = Dim };
    public static LogSoftmax FromSpec(JsonObject spec, Rng rng) => new(ModuleSpec.Int(spec, "dim", -1));
}
