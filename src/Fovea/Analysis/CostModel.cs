using Fovea.Nn;

namespace Fovea.Analysis;

/// <summary>Sums over a <see cref="CostModel"/>'s rows.</summary>
/// <param name="Parameters">Parameters of all layers.</param>
/// <param name="WeightBytes">Their bytes as float32.</param>
/// <param name="Macs">Multiply-adds per image.</param>
/// <param name="OutputBytes">Every layer's output together: what inference holds if it frees nothing.</param>
/// <param name="TrainingBytes">What a training step keeps for backward per image: every tensor some layer's rule keeps, each counted once (a ReLU's output is also the next conv's input), plus the layers' own state; the input image included.</param>
/// <param name="PeakInferenceBytes">The largest input + output of one row: the least an inference run that frees each activation after its reader holds at once.</param>
public sealed record CostTotals(long Parameters, long WeightBytes, long Macs, long OutputBytes, long TrainingBytes, long PeakInferenceBytes);

/// <summary>
/// The costs of a model on C×H×W images, per layer and in total, computed from the layers' arguments
/// (nothing is run, so any input size is cheap): output shape, parameters and their bytes, multiply-adds,
/// activation bytes for inference and for training, the receptive field, and for every Conv2d its
/// locally connected and dense twins (<see cref="ConvTwins"/>). Sequentials are opened up; a residual
/// block is one row. Counts are exact: checked 64-bit arithmetic, Int128 for the twins.
/// <para>A layer built for one input size (Linear, LocallyConnected2d) that receives another is costed as
/// the same layer rebuilt for it and flagged (<see cref="LayerCost.SizeMismatch"/>), so that "what would a
/// dense head on 2048×2048 images cost" has an answer; <see cref="TakesInput"/> says whether the model
/// itself runs on this input. Any other misfit (wrong channels, an image smaller than a window) throws.</para>
/// </summary>
public sealed class CostModel
{
    private CostModel(TensorShape input, IReadOnlyList<LayerCost> layers, CostTotals totals)
    {
        Input = input;
        Layers = layers;
        Totals = totals;
    }

    /// <summary>One image: [1, C, H, W].</summary>
    public TensorShape Input { get; }

    public IReadOnlyList<LayerCost> Layers { get; }

    public CostTotals Totals { get; }

    /// <summary>Every Conv2d of the model, in order, beside its twins.</summary>
    public IEnumerable<ConvTwins> Convolutions => Layers.SelectMany(l => l.Convolutions);

    /// <summary>Whether every layer takes this input as built (no row was costed as a rebuilt layer).</summary>
    public bool TakesInput => Layers.All(l => l.SizeMismatch is null);

    /// <summary>The receptive field of the model's outputs (the last row's); null when they have no spatial layout.</summary>
    public ReceptiveField? ReceptiveField => Layers.Count == 0 ? ReceptiveField.Identity : Layers[^1].ReceptiveField;

    /// <summary>Costs <paramref name="model"/> on <paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/> images.</summary>
    public static CostModel Of(Module model, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException($"CostModel: image sizes must be positive. Received {channels}×{height}×{width}");
        var walk = new Walk(new TensorShape(1, channels, height, width));
        walk.Visit(model, "");
        return new CostModel(walk.Input, walk.Rows, walk.Totals());
    }

    /// <summary>Runs the rules down the model, tracking which activation each row reads and writes so that a tensor kept by two rules is counted once.</summary>
    private sealed class Walk(TensorShape input)
    {
        private readonly List<long> _activationBytes = [(long)input.Length * LayerCost.BytesPerValue];
        private readonly HashSet<int> _kept = [];
        private long _extraBytes;
        private int _current;
        private TensorShape _shape = input;
        private ReceptiveField? _field = ReceptiveField.Identity;

        public TensorShape Input { get; } = input;
        public List<LayerCost> Rows { get; } = [];

        public void Visit(Module module, string name)
        {
            if (module is Sequential sequential)
            {
                foreach (var (childName, child) in sequential.NamedChildren()) Visit(child, LayerRules.Join(name, childName));
                return;
            }
            LayerCost row;
            try
            {
                row = LayerRules.Of(name, module, _shape, _field);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Layer {(name.Length == 0 ? "" : name + " ")}({module}): {e.Message}", e);
            }
            int read = _current;
            // Flatten relabels its input's storage: the same activation, not a new one.
            if (module is not Flatten)
            {
                _activationBytes.Add(row.OutputBytes);
                _current = _activationBytes.Count - 1;
            }
            if (row.Saved.Input) _kept.Add(read);
            if (row.Saved.Output) _kept.Add(_current);
            _extraBytes = checked(_extraBytes + row.Saved.ExtraBytes);
            _shape = row.OutputShape;
            _field = row.ReceptiveField;
            Rows.Add(row);
        }

        public CostTotals Totals() => new(
            checked(Rows.Sum(r => r.Parameters)),
            checked(Rows.Sum(r => r.WeightBytes)),
            checked(Rows.Sum(r => r.Macs)),
            checked(Rows.Sum(r => r.OutputBytes)),
            checked(_kept.Sum(i => _activationBytes[i]) + _extraBytes),
            Rows.Count == 0 ? 0 : Rows.Max(r => r.InputBytes + r.OutputBytes));
    }
}
