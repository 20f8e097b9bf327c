namespace Fovea.Onnx.Import;

/// <summary>One scheduled node: its kernel, where its inputs and outputs live, and which values die after it.</summary>
internal sealed record OnnxStep(OnnxNodeProto Node, OnnxKernel Kernel, int[] Inputs, int[] Outputs, int[] LastUses);

/// <summary>
/// A checked, ordered ONNX graph: every value gets a slot, nodes run in a topological order (files are
/// supposed to be sorted; we do not rely on it), nodes whose inputs are all constants are run once at
/// load time, and each step lists the values it reads for the last time, so inference can return their
/// memory at once. Dangling inputs, cycles, values defined twice and missing outputs are
/// <see cref="InvalidDataException"/>s naming the value or node.
/// </summary>
internal sealed class OnnxGraphPlan
{
    private readonly Dictionary<string, int> _slots = [];

    public OnnxGraphPlan(OnnxModelProto model, Func<string, OnnxValue, OnnxValue> adoptInitializer)
    {
        var graph = model.Graph;
        Opset = model.Opsets.TryGetValue("", out long v) ? v : throw new InvalidDataException("the model imports no opset of the default ONNX domain");
        if (Opset is < OnnxOpRegistry.MinOpset or > OnnxOpRegistry.MaxOpset)
            throw new NotSupportedException($"opset {Opset} is not supported (Fovea reads opsets {OnnxOpRegistry.MinOpset} to {OnnxOpRegistry.MaxOpset})");

        var persistent = new Dictionary<string, OnnxValue>();
        foreach (var (name, value) in graph.Initializers)
            if (!persistent.TryAdd(name, adoptInitializer(name, value))) throw new InvalidDataException($"initialiser '{name}' is defined twice");
        // Values computable at load time; float initialisers are not, as training may change them.
        var foldable = graph.Initializers.Where(i => !i.Value.IsFloat).Select(i => i.Name).ToHashSet();
        // Before IR 4 initialisers were listed as inputs too; the caller feeds only the others.
        Inputs = graph.Inputs.Where(i => !persistent.ContainsKey(i.Name)).ToArray();
        foreach (var input in Inputs)
        {
            if (!OnnxDataTypes.IsSupported(input.Type)) throw new NotSupportedException($"input '{input.Name}': {OnnxDataTypes.Name(input.Type)} inputs are not supported");
            if (!_slots.TryAdd(input.Name, _slots.Count)) throw new InvalidDataException($"input '{input.Name}' is declared twice");
        }
        foreach (var name in persistent.Keys) if (!_slots.TryAdd(name, _slots.Count)) throw new InvalidDataException($"'{name}' is both an input and an initialiser");

        var steps = new List<OnnxStep>();
        foreach (var node in Sort(graph.Nodes, _slots.Keys))
        {
            var context = new OnnxNodeContext(node, Opset, name => persistent.GetValueOrDefault(name));
            var kernel = OnnxOpRegistry.Create(context);
            foreach (var output in node.Outputs.Where(o => o.Length > 0))
                if (!_slots.TryAdd(output, _slots.Count)) throw new InvalidDataException($"value '{output}' is defined twice (again by {context.Label})");
            if (node.Inputs.All(i => i.Length == 0 || foldable.Contains(i)))
            {
                using var noGrad = Autograd.NoGrad();
                var outputs = Run(context, kernel, node.Inputs.Select(i => i.Length == 0 ? null : persistent[i]).ToArray());
                for (int o = 0; o < node.Outputs.Count; o++)
                    if (node.Outputs[o].Length > 0)
                    {
                        persistent[node.Outputs[o]] = outputs[o];
                        foldable.Add(node.Outputs[o]);
                    }
                continue;
            }
            steps.Add(new OnnxStep(node, inputs => Run(context, kernel, inputs), node.Inputs.Select(i => i.Length == 0 ? -1 : _slots[i]).ToArray(),
                node.Outputs.Select(o => o.Length == 0 ? -1 : _slots[o]).ToArray(), []));
        }
        Outputs = graph.Outputs.ToArray();
        foreach (var output in Outputs)
            if (!_slots.ContainsKey(output.Name)) throw new InvalidDataException($"graph output '{output.Name}' is not computed by any node");
        Constants = persistent.Select(p => (_slots[p.Key], p.Value)).ToArray();
        SlotCount = _slots.Count;
        Steps = WithLastUses(steps);
    }

    public long Opset { get; }

    public IReadOnlyList<OnnxValueInfo> Inputs { get; }

    public IReadOnlyList<OnnxValueInfo> Outputs { get; }

    public IReadOnlyList<OnnxStep> Steps { get; }

    /// <summary>Values that live as long as the model: initialisers and folded constants, by slot.</summary>
    public IReadOnlyList<(int Slot, OnnxValue Value)> Constants { get; }

    public int SlotCount { get; }

    public int Slot(string name) => _slots[name];

    private static OnnxValue[] Run(OnnxNodeContext context, OnnxKernel kernel, OnnxValue?[] inputs)
    {
        OnnxValue[] outputs;
        try
        {
            outputs = kernel(inputs);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IndexOutOfRangeException)
        {
            throw new InvalidDataException($"{context.Label}: {e.Message} (inputs: {string.Join(", ", inputs.Select(i => i?.ToString() ?? "none"))})", e);
        }
        if (outputs.Length < context.Node.Outputs.Count(o => o.Length > 0))
            throw context.Unsupported($"{context.Node.Outputs.Count} outputs are asked for, {outputs.Length} are computed");
        return outputs;
    }

    /// <summary>Kahn's algorithm in file order; what cannot be scheduled is a dangling input or a cycle.</summary>
    private static List<OnnxNodeProto> Sort(IReadOnlyList<OnnxNodeProto> nodes, IEnumerable<string> available)
    {
        var known = new HashSet<string>(available);
        var producers = new Dictionary<string, OnnxNodeProto>();
        foreach (var node in nodes)
            foreach (var output in node.Outputs.Where(o => o.Length > 0)) producers.TryAdd(output, node);
        foreach (var node in nodes)
            foreach (var input in node.Inputs.Where(i => i.Length > 0))
                if (!known.Contains(input) && !producers.ContainsKey(input))
                    throw new InvalidDataException($"{node.OpType} node '{node.Label}' reads '{input}', which is not an input, an initialiser or any node's output");
        var order = new List<OnnxNodeProto>();
        var pending = nodes.ToList();
        while (pending.Count > 0)
        {
            int ready = pending.FindIndex(n => n.Inputs.All(i => i.Length == 0 || known.Contains(i)));
            if (ready < 0)
                throw new InvalidDataException($"the graph has a cycle through {string.Join(", ", pending.Take(5).Select(n => $"{n.OpType} node '{n.Label}'"))}");
            var node = pending[ready];
            pending.RemoveAt(ready);
            order.Add(node);
            foreach (var output in node.Outputs.Where(o => o.Length > 0)) known.Add(output);
        }
        return order;
    }

    /// <summary>For each step, the slots it is the last to touch (read, or write when nothing reads them), except constants, inputs and outputs.</summary>
    private OnnxStep[] WithLastUses(List<OnnxStep> steps)
    {
        var keep = new HashSet<int>(Constants.Select(c => c.Slot).Concat(Outputs.Select(o => _slots[o.Name])).Concat(Inputs.Select(i => _slots[i.Name])));
        var last = new Dictionary<int, int>();
        for (int s = 0; s < steps.Count; s++)
            foreach (int slot in steps[s].Outputs.Concat(steps[s].Inputs)) if (slot >= 0 && !keep.Contains(slot)) last[slot] = s;
        return steps.Select((step, s) => step with { LastUses = last.Where(l => l.Value == s).Select(l => l.Key).ToArray() }).ToArray();
    }
}
