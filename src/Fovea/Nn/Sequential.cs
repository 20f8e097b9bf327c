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

    /// <summary>
    /// Runs the layers in order. Under <see cref="Autograd.NoGrad"/> (inference) each intermediate output
    /// goes back to the pool as soon as the next layer has consumed it, so a deep model needs memory for
    /// about two activations rather than all of them; the caller's input is never freed. A batch norm
    /// directly followed by a ReLU runs as one fused op.
    /// </summary>
    public override Tensor Forward(Tensor input)
    {
        var x = input;
        for (int i = 0; i < _layers.Count;)
        {
            // Under no-grad a conv and the batch norm, ReLU and pooling after it run as one (InferenceFusion);
            // otherwise a batch norm followed by a ReLU runs as one op: the same values, two passes over memory fewer.
            int run = Autograd.IsEnabled ? 1 : InferenceFusion.Length(_layers, i);
            var fusedNorm = run == 1 && _layers[i] is BatchNormBase norm && i + 1 < _layers.Count && _layers[i + 1] is ReLU ? norm : null;
            Tensor y;
            try
            {
                y = run > 1 ? InferenceFusion.Forward(_layers, i, run, x)
                    : fusedNorm?.ForwardRelu(x) ?? FlattenInPlace(_layers[i], x, input) ?? ReluInPlace(_layers[i], x, input) ?? _layers[i].Forward(x);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Layer {i} ({_layers[i]}): {e.Message}", e);
            }
            FreeConsumed(x, y, input);
            x = y;
            i += fusedNorm is not null ? 2 : run;
        }
        if (!x.IsBorrowed) return x;
        // The caller's input, flattened, with nothing after the Flatten that made a new tensor: a copy of its own.
        var owned = x.Clone();
        x.Dispose();
        return owned;
    }

    /// <summary>
    /// Under no-grad, a Flatten of an intermediate activation (which nothing else reads, and which would be freed next)
    /// takes the new shape in place instead of copying it (the copy was 3 % of cnn-small's batch-256 inference); of the
    /// caller's input, it reads that input's storage under the new shape (<see cref="Tensor.Borrowing"/>: the copy was 8 %
    /// of the MLP's at batch 256). Null otherwise (the caller's input is never changed; with a tape the op is recorded).
    /// </summary>
    private static Tensor? FlattenInPlace(Module layer, Tensor x, Tensor input)
    {
        if (Autograd.IsEnabled || layer is not Flatten flatten) return null;
        var shape = F.FlattenedShape(x.Shape, flatten.StartDim, flatten.EndDim);
        if (ReferenceEquals(x, input)) return Tensor.Borrowing(x, shape);
        x.SetShape(shape);
        return x;
    }

    /// <summary>
    /// Under no-grad, a ReLU of an intermediate activation (one the layers made, not the caller's input nor storage it
    /// lends) overwrites it with the same values F.Relu gives, instead of writing a new tensor and freeing the old one.
    /// With <see cref="FlattenInPlace"/>, the MLP's inference at batch 256: 650 → 536 µs. Null otherwise.
    /// </summary>
    private static Tensor? ReluInPlace(Module layer, Tensor x, Tensor input)
    {
        if (Autograd.IsEnabled || layer is not ReLU || ReferenceEquals(x, input) || x.IsBorrowed) return null;
        F.ReluInPlace(x);
        return x;
    }

    /// <summary>
    /// Under no-grad, returns <paramref name="consumed"/> to the pool now that <paramref name="produced"/> was
    /// computed from it; with a tape it must stay, since backward reads it. Never the caller's
    /// <paramref name="input"/>, nor a tensor a layer passed through unchanged (it is the output).
    /// </summary>
    internal static void FreeConsumed(Tensor consumed, Tensor produced, Tensor input)
    {
        if (!Autograd.IsEnabled && !ReferenceEquals(consumed, input) && !ReferenceEquals(consumed, produced)) consumed.Dispose();
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
