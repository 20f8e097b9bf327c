using System.Runtime.InteropServices;

namespace Fovea.Onnx;

/// <summary>An attribute of an ONNX node: an int, a list of ints or a float.</summary>
internal sealed record OnnxAttribute(string Name, long? Int = null, long[]? Ints = null, float? Float = null);

/// <summary>
/// Builds an ONNX ModelProto (IR 8, opset 13 to 17) for a single-input single-output float graph.
/// Field numbers are those of onnx.proto: ModelProto ir_version 1, producer_name 2, graph 7,
/// opset_import 8; GraphProto node 1, name 2, initializer 5, input 11, output 12; NodeProto input 1,
/// output 2, name 3, op_type 4, attribute 5; AttributeProto name 1, f 2, i 3, ints 8, type 20;
/// TensorProto dims 1, data_type 2, name 8, raw_data 9; ValueInfoProto name 1, type 2.
/// </summary>
internal sealed class OnnxGraph(int opset)
{
    private const int FloatType = 1, Int64Type = 7; // TensorProto.DataType.FLOAT, INT64
    private const int AttributeFloat = 1, AttributeInt = 2, AttributeInts = 7;
    private readonly List<Action<ProtoWriter>> _nodes = [], _initializers = [];
    private int _counter;

    /// <summary>Adds a constant tensor (a weight) and returns its name.</summary>
    public string Initializer(string name, ReadOnlySpan<float> values, params long[] dims)
    {
        var raw = MemoryMarshal.AsBytes(values).ToArray(); // little-endian floats, as raw_data wants
        _initializers.Add(w => w.Ints(1, dims).Int(2, FloatType).String(8, name).Bytes(9, raw));
        return name;
    }

    /// <summary>Adds a constant int64 tensor (a shape or pads input) and returns its name.</summary>
    public string Int64Initializer(string name, params long[] values)
    {
        var raw = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        _initializers.Add(w => w.Ints(1, [values.Length]).Int(2, Int64Type).String(8, name).Bytes(9, raw));
        return name;
    }

    /// <summary>Adds a node of <paramref name="op"/> and returns the name of its (single) output.</summary>
    public string Node(string op, string[] inputs, params OnnxAttribute[] attributes) =>
        NamedNode($"{op.ToLowerInvariant()}_{_counter++}", op, inputs, attributes);

    /// <summary>Adds a node of <paramref name="op"/> whose output is called <paramref name="output"/> (a graph output, say).</summary>
    public string NamedNode(string output, string op, string[] inputs, params OnnxAttribute[] attributes)
    {
        _nodes.Add(w =>
        {
            foreach (var input in inputs) w.String(1, input);
            w.String(2, output).String(3, output).String(4, op);
            foreach (var a in attributes) w.Message(5, attribute => Write(attribute, a));
        });
        return output;
    }

    /// <summary>The serialised model; the first dimension of input and output is the symbolic batch "N".</summary>
    public byte[] ToModel(string input, long[] inputDims, string output, long[] outputDims) =>
        new ProtoWriter()
            .Int(1, 8)
            .String(2, "Fovea")
            .Message(7, graph =>
            {
                foreach (var node in _nodes) graph.Message(1, node);
                graph.String(2, "fovea");
                foreach (var initializer in _initializers) graph.Message(5, initializer);
                graph.Message(11, v => ValueInfo(v, input, inputDims));
                graph.Message(12, v => ValueInfo(v, output, outputDims));
            })
            .Message(8, import => import.String(1, "").Int(2, opset))
            .ToArray();

    private static void Write(ProtoWriter w, OnnxAttribute a)
    {
        w.String(1, a.Name);
        if (a.Float is float f) w.Float(2, f).Int(20, AttributeFloat);
        else if (a.Int is long i) w.Int(3, i).Int(20, AttributeInt);
        else w.Ints(8, a.Ints ?? []).Int(20, AttributeInts);
    }

    /// <summary>ValueInfoProto → TypeProto.tensor_type (1) → elem_type (1), shape (2) → dim (1) → dim_value (1) or dim_param (2).</summary>
    private static void ValueInfo(ProtoWriter w, string name, long[] dims) =>
        w.String(1, name).Message(2, type => type.Message(1, tensor => tensor
            .Int(1, FloatType)
            .Message(2, shape =>
            {
                shape.Message(1, d => d.String(2, "N"));
                foreach (long dim in dims.Skip(1)) shape.Message(1, d => d.Int(1, dim));
            })));
}
