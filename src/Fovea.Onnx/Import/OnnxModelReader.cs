using System.Runtime.InteropServices;

namespace Fovea.Onnx.Import;

/// <summary>
/// Decodes an ONNX ModelProto from bytes (field numbers from onnx.proto). Only the fields import needs
/// are kept; unknown fields are skipped as protobuf requires. Structural damage (truncation, wrong wire
/// types, tensors whose data does not match their dimensions) is an <see cref="InvalidDataException"/>
/// naming the byte offset; the graph-level checks (dangling inputs, cycles) come after, in
/// <see cref="OnnxGraphPlan"/>.
/// </summary>
internal static class OnnxModelReader
{
    public static OnnxModelProto Read(ReadOnlyMemory<byte> bytes)
    {
        var r = new ProtoReader(bytes);
        long ir = 0;
        string producer = "";
        var opsets = new Dictionary<string, long>();
        OnnxGraphProto? graph = null;
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1: r.ExpectWireType(wire, 0, "ir_version"); ir = r.Int64(); break;
                case 2: r.ExpectWireType(wire, 2, "producer_name"); producer = r.String(); break;
                case 7: r.ExpectWireType(wire, 2, "graph"); graph = ReadGraph(r.Message()); break;
                case 8:
                    r.ExpectWireType(wire, 2, "opset_import");
                    var (domain, version) = ReadOpset(r.Message());
                    opsets[domain] = version;
                    break;
                default: r.Skip(wire); break;
            }
        }
        if (graph is null) throw new InvalidDataException("the model has no graph (is this an ONNX file?)");
        return new OnnxModelProto(ir, producer, opsets, graph);
    }

    /// <summary>A TensorProto on its own, as the backend tests store inputs and outputs (input_0.pb).</summary>
    public static (string Name, OnnxValue Value) ReadTensor(ReadOnlyMemory<byte> bytes) => ReadTensor(new ProtoReader(bytes));

    private static (string, long) ReadOpset(ProtoReader r)
    {
        string domain = "";
        long version = 0;
        while (r.Next(out int field, out int wire))
        {
            if (field == 1) { r.ExpectWireType(wire, 2, "opset domain"); domain = r.String(); }
            else if (field == 2) { r.ExpectWireType(wire, 0, "opset version"); version = r.Int64(); }
            else r.Skip(wire);
        }
        return (domain == "ai.onnx" ? "" : domain, version);
    }

    private static OnnxGraphProto ReadGraph(ProtoReader r)
    {
        string name = "";
        var nodes = new List<OnnxNodeProto>();
        var initializers = new List<(string, OnnxValue)>();
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        while (r.Next(out int field, out int wire))
        {
            if (field is 1 or 5 or 11 or 12 or 15) r.ExpectWireType(wire, 2, "graph member");
            switch (field)
            {
                case 1: nodes.Add(ReadNode(r.Message())); break;
                case 2: r.ExpectWireType(wire, 2, "graph name"); name = r.String(); break;
                case 5: initializers.Add(ReadTensor(r.Message())); break;
                case 11: inputs.Add(ReadValueInfo(r.Message())); break;
                case 12: outputs.Add(ReadValueInfo(r.Message())); break;
                case 15: throw new NotSupportedException("sparse initialisers are not supported");
                default: r.Skip(wire); break;
            }
        }
        return new OnnxGraphProto(name, nodes, initializers, inputs, outputs);
    }

    private static OnnxNodeProto ReadNode(ProtoReader r)
    {
        int start = r.Offset;
        string name = "", op = "", domain = "";
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new Dictionary<string, OnnxAttributeProto>();
        while (r.Next(out int field, out int wire))
        {
            if (field is 1 or 2 or 3 or 4 or 5 or 7) r.ExpectWireType(wire, 2, "node member");
            switch (field)
            {
                case 1: inputs.Add(r.String()); break;
                case 2: outputs.Add(r.String()); break;
                case 3: name = r.String(); break;
                case 4: op = r.String(); break;
                case 5:
                    int at = r.Offset;
                    var a = ReadAttribute(r.Message());
                    if (!attributes.TryAdd(a.Name, a)) throw new InvalidDataException($"byte {at}: attribute '{a.Name}' appears twice");
                    break;
                case 7: domain = r.String(); break;
                default: r.Skip(wire); break;
            }
        }
        if (op.Length == 0) throw new InvalidDataException($"node '{name}' (byte {start}) has no op_type");
        return new OnnxNodeProto(name, op, domain == "ai.onnx" ? "" : domain, inputs, outputs, attributes);
    }

    private static OnnxAttributeProto ReadAttribute(ProtoReader r)
    {
        int start = r.Offset;
        string name = "", s = "";
        var type = OnnxAttributeType.Undefined;
        float f = 0;
        long i = 0;
        OnnxValue? t = null;
        var floats = new List<float>();
        var ints = new List<long>();
        var strings = new List<string>();
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1: r.ExpectWireType(wire, 2, "attribute name"); name = r.String(); break;
                case 2: r.ExpectWireType(wire, 5, "attribute f"); f = r.Fixed32Float(); break;
                case 3: r.ExpectWireType(wire, 0, "attribute i"); i = r.Int64(); break;
                case 4: r.ExpectWireType(wire, 2, "attribute s"); s = r.String(); break;
                case 5: r.ExpectWireType(wire, 2, "attribute t"); t = ReadTensor(r.Message()).Value; break;
                case 7: r.Floats(wire, floats); break;
                case 8: r.Int64s(wire, ints); break;
                case 9: r.ExpectWireType(wire, 2, "attribute strings"); strings.Add(r.String()); break;
                case 20: r.ExpectWireType(wire, 0, "attribute type"); type = (OnnxAttributeType)r.Int32(); break;
                default: r.Skip(wire); break;
            }
        }
        if (name.Length == 0) throw new InvalidDataException($"attribute at byte {start} has no name");
        if (!Enum.IsDefined(type)) throw new InvalidDataException($"attribute '{name}' (byte {start}) has the invalid type {(int)type}");
        return new OnnxAttributeProto(name, type, f, i, s, t, floats, ints, strings);
    }

    private static OnnxValueInfo ReadValueInfo(ProtoReader r)
    {
        int start = r.Offset;
        string name = "";
        var type = OnnxDataType.Undefined;
        List<long?>? dims = null;
        while (r.Next(out int field, out int wire))
        {
            if (field == 1) { r.ExpectWireType(wire, 2, "value name"); name = r.String(); }
            else if (field == 2) { r.ExpectWireType(wire, 2, "value type"); (type, dims) = ReadTensorType(r.Message()); }
            else r.Skip(wire);
        }
        string label = $"value '{name}' (byte {start})";
        if (type != OnnxDataType.Undefined && !IsDefined(type)) throw new InvalidDataException($"{label}: invalid data type {(int)type}");
        if (dims?.FirstOrDefault(d => d is < 0 or > int.MaxValue) is long bad) throw new InvalidDataException($"{label}: dimension {bad} is out of range");
        return new OnnxValueInfo(name, type, dims);
    }

    /// <summary>TypeProto → tensor_type (1) → elem_type (1), shape (2) → dim (1) → dim_value (1) | dim_param (2).</summary>
    private static (OnnxDataType, List<long?>?) ReadTensorType(ProtoReader r)
    {
        var type = OnnxDataType.Undefined;
        List<long?>? dims = null;
        while (r.Next(out int field, out int wire))
        {
            if (field != 1 || wire != 2) { r.Skip(wire); continue; }
            var tensor = r.Message();
            while (tensor.Next(out int tf, out int tw))
            {
                if (tf == 1 && tw == 0) type = (OnnxDataType)tensor.Int32();
                else if (tf == 2 && tw == 2)
                {
                    dims = [];
                    var shape = tensor.Message();
                    while (shape.Next(out int sf, out int sw))
                    {
                        if (sf != 1 || sw != 2) { shape.Skip(sw); continue; }
                        long? value = null;
                        var dim = shape.Message();
                        while (dim.Next(out int df, out int dw))
                        {
                            if (df == 1 && dw == 0) value = dim.Int64();
                            else dim.Skip(dw);
                        }
                        dims.Add(value);
                    }
                }
                else tensor.Skip(tw);
            }
        }
        return (type, dims);
    }

    private static (string Name, OnnxValue Value) ReadTensor(ProtoReader r)
    {
        int start = r.Offset;
        string name = "";
        var type = OnnxDataType.Undefined;
        var dims = new List<long>();
        var floats = new List<float>();
        var longs = new List<long>();
        var doubles = new List<double>();
        ReadOnlyMemory<byte>? raw = null;
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1: r.Int64s(wire, dims); break;
                case 2: r.ExpectWireType(wire, 0, "tensor data_type"); type = (OnnxDataType)r.Int32(); break;
                case 4: r.Floats(wire, floats); break;
                case 5 or 7 or 11: r.Int64s(wire, longs); break; // int32_data, int64_data, uint64_data
                case 8: r.ExpectWireType(wire, 2, "tensor name"); name = r.String(); break;
                case 9: r.ExpectWireType(wire, 2, "tensor raw_data"); raw = r.Bytes(); break;
                case 10: r.Doubles(wire, doubles); break;
                case 14: // data_location: 0 DEFAULT, 1 EXTERNAL (the external_data entries, field 13, only matter then)
                    r.ExpectWireType(wire, 0, "tensor data_location");
                    if (r.Int64() != 0) throw new NotSupportedException($"tensor '{name}' (byte {start}): external data is not supported");
                    break;
                default: r.Skip(wire); break;
            }
        }
        string label = $"tensor '{name}' (byte {start})";
        if (!IsDefined(type)) throw new InvalidDataException($"{label}: invalid data type {(int)type}");
        if (!OnnxDataTypes.IsSupported(type))
            throw new NotSupportedException($"{label}: {OnnxDataTypes.Name(type)} tensors are not supported (float32 and integers are)");
        var shape = new int[dims.Count];
        for (int i = 0; i < dims.Count; i++)
            shape[i] = dims[i] is >= 0 and <= int.MaxValue ? (int)dims[i] : throw new InvalidDataException($"{label}: dimension {dims[i]} is out of range");
        long count = OnnxValue.ElementCount(shape);
        if (count < 0) throw new InvalidDataException($"{label}: dimensions {TensorShape.Format(shape)} hold more than {int.MaxValue} elements");
        long present = raw is { } bytes ? bytes.Length / Math.Max(1, OnnxDataTypes.Width(type)) : type == OnnxDataType.Float ? floats.Count : longs.Count;
        if (raw is { } rb && rb.Length % OnnxDataTypes.Width(type) != 0 || present != count)
            throw new InvalidDataException($"{label}: dimensions {TensorShape.Format(shape)} need {count} elements, the data holds {present}");
        return (name, type == OnnxDataType.Float ? OnnxValue.Float(Floats(raw, floats, shape)) : OnnxValue.Integer(type, Integers(type, raw, longs), shape));
    }

    /// <summary>Whether <paramref name="type"/> is a code onnx.proto defines (1.17 goes up to FLOAT4E2M1 = 23), supported by Fovea or not.</summary>
    private static bool IsDefined(OnnxDataType type) => type is > OnnxDataType.Undefined and <= (OnnxDataType)23;

    private static Tensor Floats(ReadOnlyMemory<byte>? raw, List<float> floats, int[] shape)
    {
        var t = Tensor.Empty(new TensorShape(shape));
        if (raw is { } bytes) MemoryMarshal.Cast<byte, float>(bytes.Span).CopyTo(t.Span);
        else CollectionsMarshal.AsSpan(floats).CopyTo(t.Span);
        return t;
    }

    /// <summary>Raw little-endian integers widened to long; int32_data/int64_data already are.</summary>
    private static long[] Integers(OnnxDataType type, ReadOnlyMemory<byte>? raw, List<long> longs)
    {
        if (raw is not { } bytes) return type == OnnxDataType.UInt32 ? longs.Select(v => v & 0xFFFFFFFF).ToArray() : longs.ToArray();
        var s = bytes.Span;
        return type switch
        {
            OnnxDataType.UInt8 or OnnxDataType.Bool => s.ToArray().Select(b => (long)b).ToArray(),
            OnnxDataType.Int8 => MemoryMarshal.Cast<byte, sbyte>(s).ToArray().Select(b => (long)b).ToArray(),
            OnnxDataType.UInt16 => MemoryMarshal.Cast<byte, ushort>(s).ToArray().Select(v => (long)v).ToArray(),
            OnnxDataType.Int16 => MemoryMarshal.Cast<byte, short>(s).ToArray().Select(v => (long)v).ToArray(),
            OnnxDataType.Int32 => MemoryMarshal.Cast<byte, int>(s).ToArray().Select(v => (long)v).ToArray(),
            OnnxDataType.UInt32 => MemoryMarshal.Cast<byte, uint>(s).ToArray().Select(v => (long)v).ToArray(),
            _ => MemoryMarshal.Cast<byte, long>(s).ToArray(),
        };
    }
}
