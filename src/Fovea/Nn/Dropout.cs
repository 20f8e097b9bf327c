using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>Inverted dropout while training (<see cref="Module.IsTraining"/>); the identity in evaluation.</summary>
public sealed class Dropout : Module
{
    private readonly Rng _rng;

    public float P { get; }

    /// <summary>Where the masks come from; its state goes into training checkpoints so a resumed run draws the same masks.</summary>
    public Rng Rng => _rng;

    /// <param name="p">Probability of zeroing an element.</param>
    /// <param name="rng">Where the masks come from; null draws from <see cref="Init.Global"/>.</param>
    public Dropout(float p = 0.5f, Rng? rng = null)
    {
        if (!(p >= 0f && p <= 1f)) throw new ArgumentException($"Dropout: p must be in [0, 1]. Received {p}");
        P = p;
        _rng = rng ?? Init.Global;
    }

    public override Tensor Forward(Tensor input) => F.Dropout(input, P, IsTraining, _rng);
    public override string ToString() => $"Dropout(p={P})";
    public override JsonObject ToSpec() => new() { ["type"] = nameof(Dropout), ["p"] = P };
    public static Dropout FromSpec(JsonObject spec, Rng rng) => new(ModuleSpec.Float(spec, "p", 0.5f), rng);
}
