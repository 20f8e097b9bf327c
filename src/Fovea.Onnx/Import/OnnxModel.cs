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
            return new OnnxModel(forTraining ? model : model with { Graph = InferenceRewrite.Apply(model.Graph, model.Opsets.GetValueOrDefault("")) });
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
        var value = OnnxValue.Float(input);
        Check(_plan.Inputs[0], value);
        var slots = Execute([value]);
        var output = _plan.Outputs[0];
        return slots[_plan.Slot(output.Name)]!.FloatData($"output '{output.Name}'");
    }

    /// <summary>Runs the graph on named inputs and returns every graph output by name.</summary>
    public IReadOnlyDictionary<string, OnnxValue> Run(IReadOnlyDictionary<string, OnnxValue> inputs)
    {
        var values = new OnnxValue[_plan.Inputs.Count];
        for (int i = 0; i < values.Length; i++)
        {
            var info = _plan.Inputs[i];
            if (!inputs.TryGetValue(info.Name, out var value)) throw new ArgumentException($"ONNX model: input '{info.Name}' is missing");
            Check(info, value);
            values[i] = value;
        }
        var slots = Execute(values);
        var outputs = new Dictionary<string, OnnxValue>(_plan.Outputs.Count);
        for (int o = 0; o < _plan.Outputs.Count; o++) outputs.Add(_plan.Outputs[o].Name, slots[_plan.Slot(_plan.Outputs[o].Name)]!);
        return outputs;
    }

    /// <summary>Runs every step on <paramref name="inputs"/> (checked, in graph input order) and returns the value slots.</summary>
    private OnnxValue?[] Execute(OnnxValue[] inputs)
    {
        // Indexed loops throughout: this runs once per inference, and interface enumerators and lambdas allocate.
        using var warm = ForkJoin.StayWarm();
        var slots = new OnnxValue?[_plan.SlotCount];
        // Values that share one tensor's storage (Identity, Dropout at inference, the views of Reshape and its kind) share
        // a count of live slots; the tensor of the first (the owner) goes back to the pool when the count reaches zero.
        var root = new int[_plan.SlotCount];
        var live = new int[_plan.SlotCount];
        var owners = new Tensor?[_plan.SlotCount];
        var constants = _plan.Constants;
        for (int c = 0; c < constants.Count; c++) Hold(constants[c].Slot, constants[c].Value, constants[c].Slot);
        for (int i = 0; i < inputs.Length; i++)
        {
            int slot = _plan.Slot(_plan.Inputs[i].Name);
            Hold(slot, inputs[i], slot);
        }
        bool release = !Autograd.IsEnabled;
        var steps = _plan.Steps;
        for (int s = 0; s < steps.Count; s++)
        {
            var step = steps[s];
            var args = new OnnxValue?[step.Inputs.Length];
            for (int i = 0; i < args.Length; i++) args[i] = step.Inputs[i] >= 0 ? slots[step.Inputs[i]] : null;
            var results = step.Kernel(args);
            for (int o = 0; o < step.Outputs.Length; o++)
            {
                int slot = step.Outputs[o];
                if (slot < 0) continue;
                int owner = ArgumentHolding(args, results[o].Floats);
                Hold(slot, results[o], owner >= 0 ? root[step.Inputs[owner]] : slot);
            }
            if (!release) continue;
            foreach (int slot in step.LastUses)
            {
                if (--live[root[slot]] == 0) owners[root[slot]]?.Dispose();
                slots[slot] = null;
            }
        }
        // An output that views another value's storage gets its own: the caller owns what it is given.
        for (int o = 0; o < _plan.Outputs.Count; o++)
        {
            int slot = _plan.Slot(_plan.Outputs[o].Name);
            if (slots[slot]?.Floats is { IsBorrowed: true } view) slots[slot] = OnnxValue.Float(view.Clone());
        }
        return slots;

        void Hold(int slot, OnnxValue value, int owner)
        {
            slots[slot] = value;
            root[slot] = owner;
            if (owner == slot) owners[slot] = value.Floats;
            live[owner]++;
        }
    }

    /// <summary>The first argument whose storage <paramref name="tensor"/> reads (a pass-through output or a view), or -1.</summary>
    private static int ArgumentHolding(OnnxValue?[] args, Tensor? tensor)
    {
        if (tensor is null) return -1;
        for (int i = 0; i < args.Length; i++)
            if (args[i]?.Floats is { } arg && (ReferenceEquals(arg, tensor) || tensor.IsBorrowed && tensor.SharesStorageWith(arg))) return i;
        return -1;
    }

    public override JsonObject ToSpec() =>
        throw new NotSupportedException("an imported ONNX model has no Fovea architecture spec; keep the .onnx file (or export again with OnnxExporter)");

    public override string ToString() => $"OnnxModel(opset {Opset}, {_plan.Steps.Count} nodes)";

    private static void Check(OnnxValueInfo info, OnnxValue value)
    {
        bool typeMatches = info.Type == OnnxDataType.Float ? value.IsFloat : !value.IsFloat;
        if (!typeMatches || !ShapeMatches(info.Dims, value.Dims))
            throw new ArgumentException($"ONNX model: input '{info.Name}' expects {OnnxDataTypes.Name(info.Type)} " +
                $"[{(info.Dims is null ? "?" : string.Join(", ", info.Dims.Select(d => d?.ToString() ?? "N")))}], received {value}");
    }

    /// <summary>Whether <paramref name="dims"/> fit the declared ones (null: any shape; a null dimension: any size).</summary>
    private static bool ShapeMatches(IReadOnlyList<long?>? declared, int[] dims)
    {
        if (declared is null) return true;
        if (declared.Count != dims.Length) return false;
        for (int i = 0; i < dims.Length; i++)
            if (declared[i] is { } d && d != dims[i]) return false;
        return true;
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
