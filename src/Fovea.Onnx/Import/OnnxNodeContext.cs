namespace Fovea.Onnx.Import;

/// <summary>
/// What an op factory sees of its node at load time: typed attribute reads (each read is recorded, so an
/// attribute no factory read is reported as unsupported rather than silently ignored), the opset, and the
/// values of inputs already known at load time (initialisers and folded constants).
/// </summary>
internal sealed class OnnxNodeContext(OnnxNodeProto node, long opset, Func<string, OnnxValue?> constant)
{
    private readonly HashSet<string> _read = [];

    public OnnxNodeProto Node { get; } = node;

    /// <summary>The model's opset for the default domain.</summary>
    public long Opset { get; } = opset;

    public string OpType => Node.OpType;

    /// <summary>How messages name this node: <c>Conv node 'conv1' (opset 13)</c>.</summary>
    public string Label => $"{Node.OpType} node '{Node.Label}' (opset {Opset})";

    public NotSupportedException Unsupported(string what) => new($"{Label}: {what}");

    public InvalidDataException Invalid(string what) => new($"{Label}: {what}");

    public int InputCount => Node.Inputs.Count;

    /// <summary>Whether input <paramref name="index"/> is given (optional inputs may be absent or named "").</summary>
    public bool HasInput(int index) => index < Node.Inputs.Count && Node.Inputs[index].Length > 0;

    /// <summary>The value of input <paramref name="index"/> when it is known at load time (an initialiser or constant); null otherwise.</summary>
    public OnnxValue? Constant(int index) => HasInput(index) ? constant(Node.Inputs[index]) : null;

    public bool Has(string name) => Node.Attributes.ContainsKey(name);

    public long Int(string name, long fallback) => Read(name, OnnxAttributeType.Int) is { } a ? a.Int : fallback;

    public float Float(string name, float fallback) => Read(name, OnnxAttributeType.Float) is { } a ? a.Float : fallback;

    public string String(string name, string fallback) => Read(name, OnnxAttributeType.String) is { } a ? a.String : fallback;

    public long[]? Ints(string name) => Read(name, OnnxAttributeType.Ints)?.Ints.ToArray();

    public float[]? Floats(string name) => Read(name, OnnxAttributeType.Floats)?.Floats.ToArray();

    public OnnxValue? Tensor(string name) => Read(name, OnnxAttributeType.Tensor)?.Tensor;

    /// <summary>Marks an attribute as understood without reading it (one whose every value means the same to Fovea).</summary>
    public void Ignore(string name) => _read.Add(name);

    /// <summary>Fails for the first attribute no factory read.</summary>
    public void CheckAllAttributesRead()
    {
        foreach (string name in Node.Attributes.Keys)
            if (!_read.Contains(name)) throw Unsupported($"attribute '{name}' is not supported");
    }

    private OnnxAttributeProto? Read(string name, OnnxAttributeType type)
    {
        _read.Add(name);
        if (!Node.Attributes.TryGetValue(name, out var a)) return null;
        // Old exporters leave the type out; trust the field then.
        if (a.Type != type && a.Type != OnnxAttributeType.Undefined)
            throw Invalid($"attribute '{name}' is {a.Type}, expected {type}");
        return a;
    }
}
