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

        // An empty name means "absent" to a node, so a value without one could never be read.
        foreach (var (name, _) in graph.Initializers) RequireName(name, "an initialiser");
        foreach (var info in graph.Inputs) RequireName(info.Name, "a graph input");
        foreach (var info in graph.Outputs) RequireName(info.Name, "a graph output");
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
        foreach (var name in persistent.Keys) _slots.Add(name, _slots.Count); // Inputs leave initialisers out, so names cannot clash

        var steps = new List<OnnxStep>();
        foreach (var node in Sort(graph.Nodes, _slots.Keys))
        {
            var context = new OnnxNodeContext(node, Opset, name => persistent.GetValueOrDefault(name));
            var kernel = Create(context);
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
        var outputNames = new HashSet<string>();
        foreach (var output in Outputs)
        {
            if (!_slots.ContainsKey(output.Name)) throw new InvalidDataException($"graph output '{output.Name}' is not computed by any node");
            if (!outputNames.Add(output.Name)) throw new InvalidDataException($"graph output '{output.Name}' is listed twice");
        }
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

    private static void RequireName(string name, string what)
    {
        if (name.Length == 0) throw new InvalidDataException($"{what} has no name");
    }

    /// <summary>The node's kernel; a factory's argument errors (a bad attribute value, say) are named after the node.</summary>
    private static OnnxKernel Create(OnnxNodeContext context)
    {
        try
        {
            return OnnxOpRegistry.Create(context);
        }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            throw new InvalidDataException(Labelled(context, e.Message), e);
        }
    }

    private static OnnxValue[] Run(OnnxNodeContext context, OnnxKernel kernel, OnnxValue?[] inputs)
    {
        OnnxValue[] outputs;
        try
        {
            outputs = kernel(inputs);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IndexOutOfRangeException
            || e is NullReferenceException && inputs.Any(i => i is null)) // a required input left out (named "")
        {
            throw new InvalidDataException($"{Labelled(context, Describe(e))} (inputs: {Shapes(inputs)})", e);
        }
        var wanted = context.Node.Outputs;
        for (int o = 0; o < wanted.Count; o++)
        {
            if (wanted[o].Length == 0) continue;
            if (o >= outputs.Length) throw context.Unsupported($"output {o} ('{wanted[o]}') is asked for, the op computes {outputs.Length}");
            if (outputs[o] is null) throw context.Invalid($"output {o} ('{wanted[o]}') was not computed (inputs: {Shapes(inputs)})");
        }
        return outputs;
    }

    private static string Shapes(OnnxValue?[] inputs) => string.Join(", ", inputs.Select(i => i?.ToString() ?? "none"));

    /// <summary>Runtime exceptions carry the runtime's words; say what they mean for a node.</summary>
    private static string Describe(Exception e) => e switch
    {
        NullReferenceException => "a required input is absent",
        IndexOutOfRangeException => "fewer inputs than the op needs, or an index out of range",
        _ => e.Message,
    };

    /// <summary>The message prefixed with the node's label, unless a factory's or kernel's error (node.Invalid) already starts with it.</summary>
    private static string Labelled(OnnxNodeContext context, string message) =>
        message.StartsWith(context.Label, StringComparison.Ordinal) ? message : $"{context.Label}: {message}";

    /// <summary>
    /// Kahn's algorithm, taking the earliest ready node in file order (so a sorted file keeps its order),
    /// in O((nodes + edges) log nodes); what cannot be scheduled is a dangling input or a cycle.
    /// </summary>
    private static List<OnnxNodeProto> Sort(IReadOnlyList<OnnxNodeProto> nodes, IEnumerable<string> available)
    {
        var known = new HashSet<string>(available);
        var producers = new HashSet<string>(nodes.SelectMany(n => n.Outputs).Where(o => o.Length > 0));
        var readers = new Dictionary<string, List<int>>();
        var waiting = new int[nodes.Count]; // distinct inputs not yet computed, per node
        var ready = new PriorityQueue<int, int>();
        for (int n = 0; n < nodes.Count; n++)
        {
            foreach (var input in nodes[n].Inputs.Where(i => i.Length > 0).Distinct())
            {
                if (known.Contains(input)) continue;
                if (!producers.Contains(input))
                    throw new InvalidDataException($"{nodes[n].OpType} node '{nodes[n].Label}' reads '{input}', which is not an input, an initialiser or any node's output");
                (readers.TryGetValue(input, out var list) ? list : readers[input] = []).Add(n);
                waiting[n]++;
            }
            if (waiting[n] == 0) ready.Enqueue(n, n);
        }
        var order = new List<OnnxNodeProto>(nodes.Count);
        while (ready.TryDequeue(out int n, out _))
        {
            order.Add(nodes[n]);
            foreach (var output in nodes[n].Outputs)
                if (output.Length > 0 && known.Add(output) && readers.TryGetValue(output, out var list))
                    foreach (int reader in list)
                        if (--waiting[reader] == 0) ready.Enqueue(reader, reader);
        }
        if (order.Count < nodes.Count)
        {
            var stuck = Enumerable.Range(0, nodes.Count).Where(n => waiting[n] > 0).Take(5).Select(n => $"{nodes[n].OpType} node '{nodes[n].Label}'");
            throw new InvalidDataException($"the graph has a cycle through {string.Join(", ", stuck)}");
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
        var dying = last.ToLookup(l => l.Value, l => l.Key);
        return steps.Select((step, s) => step with { LastUses = dying[s].ToArray() }).ToArray();
    }
}
