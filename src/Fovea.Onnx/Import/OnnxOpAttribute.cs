namespace Fovea.Onnx.Import;

/// <summary>
/// Runs one node: receives the node's inputs in order (null where an optional input is left out) and
/// returns its outputs in order. Built once per node at load time by an <see cref="OnnxOpAttribute"/>
/// factory, which has already read and checked the attributes.
/// </summary>
internal delegate OnnxValue[] OnnxKernel(OnnxValue?[] inputs);

/// <summary>
/// Marks a static method <c>OnnxKernel Name(OnnxNodeContext node)</c> as the factory for the listed
/// ONNX op types (default domain). Factories live beside their kernels, one op family per file, and
/// <see cref="OnnxOpRegistry"/> finds them by reflection, so adding an op touches no shared table.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class OnnxOpAttribute(params string[] opTypes) : Attribute
{
    public string[] OpTypes { get; } = opTypes;
}
