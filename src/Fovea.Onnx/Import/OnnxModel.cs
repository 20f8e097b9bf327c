using System.Text.Json.Nodes;
using Fovea.Nn;

namespace Fovea.Onnx.Import;

/// <summary>
/// An ONNX model imported as a Fovea module. Float initialisers become parameters (BatchNormalization's
/// mean and variance become buffers), ops run on Fovea's kernels, and ops with a Fovea autograd twin
/// record gradients, so a graph made of them can be fine-tuned like any module. Under
/// <see cref="Autograd.NoGrad"/> (or <see cref="Module.Inference"/>) each activation's memory goes back
/// to the pool right after its last reader.
/// </summary>
public sealed class OnnxModel : Module
{
    private readonly OnnxGraphPlan _plan;

    private OnnxModel(OnnxModelProto model)
    {
        var statistics = model.Graph.Nodes.Where(n => n.OpType == "BatchNormalization").SelectMany(n => n.Inputs.Skip(3).Take(2)).ToHashSet();
        var names = new HashSet<string>();
        _plan = new OnnxGraphPlan(model, (name, value) => Adopt(name, value, statistics.Contains(name), names));
        Producer = model.Producer;
    }

    /// <summary>
    /// Reads an .onnx file; damage is an <see cref="InvalidDataException"/> and unsupported content a
    /// <see cref="NotSupportedException"/>, both naming the file. By default the graph is prepared for
    /// inference (batch norms folded into the convs before them, ReLU and 2×2 max pooling fused into them); <paramref name="forTraining"/> keeps every
    /// node, so that fine-tuning sees the original parameters.
    /// </summary>
    public static OnnxModel Load(string path, bool forTraining = false)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        return Load(bytes, path, forTraining);
    }

    /// <summary>Reads a serialised ModelProto; <paramref name="source"/> names it in error messages. See <see cref="Load(string, bool)"/>.</summary>
    public static OnnxModel Load(ReadOnlyMemory<byte> bytes, string source = "ONNX model", bool forTraining = false)
    {
        try
        {
            var model = OnnxModelReader.Read(bytes);
            return new OnnxModel(forTraining ? model : model with { Graph = InferenceRewrite.Apply(model.Graph) });
        }
        catch (NotSupportedException e)
        {
            throw new NotSupportedException($"{source}: {e.Message}", e);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or OverflowException or IndexOutOfRangeException or InvalidCastException)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
    }

    /// <summary>The exporter that wrote the file (producer_name).</summary>
    public string Producer { get; }

    /// <summary>The model's opset of the default domain.</summary>
    public long Opset => _plan.Opset;

    public IReadOnlyList<string> InputNames => _plan.Inputs.Select(i => i.Name).ToArray();

    public IReadOnlyList<string> OutputNames => _plan.Outputs.Select(o => o.Name).ToArray();

    /// <summary>The declared dimensions of input <paramref name="index"/> (null where symbolic).</summary>
    public IReadOnlyList<long?>? InputDims(int index = 0) => _plan.Inputs[index].Dims;

    /// <summary>Runs a single-input model and returns its first output.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (_plan.Inputs.Count != 1) throw new ArgumentException($"ONNX model: Forward takes one input, the model has {_plan.Inputs.Count} ({string.Join(", ", InputNames)}); use Run");
        var outputs = Run(new Dictionary<string, OnnxValue> { [_plan.Inputs[0].Name] = OnnxValue.Float(input) });
        return outputs[_plan.Outputs[0].Name].FloatData($"output '{_plan.Outputs[0].Name}'");
    }

    /// <summary>Runs the graph on named inputs and returns every graph output by name.</summary>
    public IReadOnlyDictionary<string, OnnxValue> Run(IReadOnlyDictionary<string, OnnxValue> inputs)
    {
        var slots = new OnnxValue?[_plan.SlotCount];
        // Values that share one tensor (Identity, Dropout at inference) share a count of live slots.
        var root = new int[_plan.SlotCount];
        var live = new int[_plan.SlotCount];
        foreach (var (slot, value) in _plan.Constants) Hold(slot, value, slot);
        foreach (var info in _plan.Inputs)
        {
            if (!inputs.TryGetValue(info.Name, out var value)) throw new ArgumentException($"ONNX model: input '{info.Name}' is missing");
            Check(info, value);
            Hold(_plan.Slot(info.Name), value, _plan.Slot(info.Name));
        }
        bool release = !Autograd.IsEnabled;
        foreach (var step in _plan.Steps)
        {
            var args = new OnnxValue?[step.Inputs.Length];
            for (int i = 0; i < args.Length; i++) args[i] = step.Inputs[i] >= 0 ? slots[step.Inputs[i]] : null;
            var results = step.Kernel(args);
            for (int o = 0; o < step.Outputs.Length; o++)
            {
                int slot = step.Outputs[o];
                if (slot < 0) continue;
                int owner = Array.FindIndex(args, a => a?.Floats is { } t && ReferenceEquals(t, results[o].Floats));
                Hold(slot, results[o], owner >= 0 ? root[step.Inputs[owner]] : slot);
            }
            if (!release) continue;
            foreach (int slot in step.LastUses)
            {
                if (--live[root[slot]] == 0) slots[slot]?.Floats?.Dispose();
                slots[slot] = null;
            }
        }
        return _plan.Outputs.ToDictionary(o => o.Name, o => slots[_plan.Slot(o.Name)]!);

        void Hold(int slot, OnnxValue value, int owner)
        {
            slots[slot] = value;
            root[slot] = owner;
            live[owner]++;
        }
    }

    public override JsonObject ToSpec() =>
        throw new NotSupportedException("an imported ONNX model has no Fovea architecture spec; keep the .onnx file (or export again with OnnxExporter)");

    public override string ToString() => $"OnnxModel(opset {Opset}, {_plan.Steps.Count} nodes)";

    private static void Check(OnnxValueInfo info, OnnxValue value)
    {
        bool typeMatches = info.Type == OnnxDataType.Float ? value.IsFloat : !value.IsFloat;
        bool shapeMatches = info.Dims is null || info.Dims.Count == value.Dims.Length && info.Dims.Select((d, i) => d is null || d == value.Dims[i]).All(m => m);
        if (!typeMatches || !shapeMatches)
            throw new ArgumentException($"ONNX model: input '{info.Name}' expects {OnnxDataTypes.Name(info.Type)} " +
                $"[{(info.Dims is null ? "?" : string.Join(", ", info.Dims.Select(d => d?.ToString() ?? "N")))}], received {value}");
    }

    /// <summary>Keeps an initialiser as a parameter or buffer of this module (under a name without dots, which modules reserve for nesting).</summary>
    private OnnxValue Adopt(string name, OnnxValue value, bool isStatistic, HashSet<string> names)
    {
        if (!value.IsFloat) return value;
        string member = name.Length == 0 ? "initializer" : name.Replace('.', '_');
        for (int i = 2; !names.Add(member); i++) member = $"{name.Replace('.', '_')}_{i}";
        if (isStatistic) return OnnxValue.Float(RegisterBuffer(member, value.Floats!));
        var parameter = Parameter.From(value.Floats!);
        value.Floats!.Dispose();
        return OnnxValue.Float(RegisterParameter(member, parameter)!);
    }
}
