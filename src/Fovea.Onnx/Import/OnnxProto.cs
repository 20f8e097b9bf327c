namespace Fovea.Onnx.Import;

/// <summary>An ONNX model as read from its file: what the importer needs of ModelProto, nothing more.</summary>
internal sealed record OnnxModelProto(long IrVersion, string Producer, IReadOnlyDictionary<string, long> Opsets, OnnxGraphProto Graph);

/// <summary>A GraphProto: nodes in file order, initialisers (already decoded), inputs and outputs.</summary>
internal sealed record OnnxGraphProto(
    string Name,
    IReadOnlyList<OnnxNodeProto> Nodes,
    IReadOnlyList<(string Name, OnnxValue Value)> Initializers,
    IReadOnlyList<OnnxValueInfo> Inputs,
    IReadOnlyList<OnnxValueInfo> Outputs);

/// <summary>A NodeProto; an empty input name marks an optional input left out.</summary>
internal sealed record OnnxNodeProto(
    string Name,
    string OpType,
    string Domain,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, OnnxAttributeProto> Attributes)
{
    /// <summary>How errors name the node: its name, or its first output when it has none.</summary>
    public string Label => Name.Length > 0 ? Name : Outputs.Count > 0 ? Outputs[0] : "(unnamed)";
}

/// <summary>The kinds of attribute value (AttributeProto.AttributeType).</summary>
internal enum OnnxAttributeType
{
    Undefined = 0, Float = 1, Int = 2, String = 3, Tensor = 4, Graph = 5, Floats = 6, Ints = 7, Strings = 8,
    Tensors = 9, Graphs = 10, SparseTensor = 11, SparseTensors = 12, TypeProto = 13, TypeProtos = 14,
}

/// <summary>An AttributeProto: its declared type and whichever value field goes with it.</summary>
internal sealed record OnnxAttributeProto(
    string Name,
    OnnxAttributeType Type,
    float Float,
    long Int,
    string String,
    OnnxValue? Tensor,
    IReadOnlyList<float> Floats,
    IReadOnlyList<long> Ints,
    IReadOnlyList<string> Strings);

/// <summary>A ValueInfoProto of a tensor: element type and dimensions (null where symbolic or unknown).</summary>
internal sealed record OnnxValueInfo(string Name, OnnxDataType Type, IReadOnlyList<long?>? Dims);
