using System.Text.Json.Nodes;

namespace Fovea.Nn;

/// <summary>Runs its children in order; children are named "0", "1", … as in PyTorch.</summary>
public sealed class Sequential : Module
{
    private readonly List<Module> _layers = [];

    public Sequential(params Module[] layers)
    {
        foreach (var layer in layers) Add(layer);
    }

    public IReadOnlyList<Module> Layers => _layers;

    public Sequential Add(Module layer)
    {
        RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
        return this;
    }

    public override Tensor Forward(Tensor input)
    {
        var x = input;
        for (int i = 0; i < _layers.Count; i++)
        {
            try
            {
                x = _layers[i].Forward(x);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Layer {i} ({_layers[i]}): {e.Message}", e);
            }
        }
        return x;
    }

    public override JsonObject ToSpec() => new()
    {
        ["type"] = nameof(Sequential),
        ["layers"] = new JsonArray(_layers.Select(l => (JsonNode)l.ToSpec()).ToArray()),
    };

    public static Sequential FromSpec(JsonObject spec, Rng rng) =>
        new((spec["layers"] as JsonArray ?? throw new InvalidDataException("Sequential spec: missing \"layers\" array."))
            .Select(n => ModuleSpec.Build(n as JsonObject ?? throw new InvalidDataException("Sequential spec: a layer is not an object."), rng))
            .ToArray());
}
