using System.Runtime.InteropServices;
using Fovea.Onnx;

namespace Fovea.Tests.Onnx.Import;

/// <summary>
/// Writes ONNX models field by field with the exporter's <see cref="ProtoWriter"/>, so tests can build
/// what no exporter would: cycles, values defined twice, invalid types, absurd dimensions.
/// Field numbers are those of onnx.proto (see <see cref="OnnxGraph"/>).
/// </summary>
internal static class RawOnnx
{
    public const int Float = 1, Int64 = 7, StringType = 8;

    public static byte[] Model(Action<ProtoWriter> graph, long opset = 13) =>
        new ProtoWriter().Int(1, 8).String(2, "test").Message(7, graph).Message(8, o => o.String(1, "").Int(2, opset)).ToArray();

    public static ProtoWriter Node(this ProtoWriter g, string op, string name, string[] inputs, string[] outputs, Action<ProtoWriter>? more = null) =>
        g.Message(1, n =>
        {
            foreach (var i in inputs) n.String(1, i);
            foreach (var o in outputs) n.String(2, o);
            n.String(3, name).String(4, op);
            more?.Invoke(n);
        });

    public static ProtoWriter Tensor(this ProtoWriter g, string name, int type, long[] dims, byte[] raw) =>
        g.Message(5, t => t.Ints(1, dims).Int(2, type).String(8, name).Bytes(9, raw));

    public static ProtoWriter Floats(this ProtoWriter g, string name, long[] dims, params float[] values) =>
        g.Tensor(name, Float, dims, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    public static ProtoWriter Input(this ProtoWriter g, string name, params long[] dims) => g.Message(11, v => ValueInfo(v, name, Float, dims));

    public static ProtoWriter Output(this ProtoWriter g, string name, params long[] dims) => g.Message(12, v => ValueInfo(v, name, Float, dims));

    /// <summary>ValueInfoProto → TypeProto.tensor_type → elem_type, shape → dim → dim_value.</summary>
    public static void ValueInfo(ProtoWriter w, string name, int type, long[] dims) =>
        w.String(1, name).Message(2, t => t.Message(1, tensor => tensor.Int(1, type).Message(2, shape =>
        {
            foreach (long d in dims) shape.Message(1, dim => dim.Int(1, d));
        })));

    /// <summary>
    /// x [1, 2, 3] → Identity → Identity → y, plus a float initialiser read by a node (a second output) and
    /// an int64 one folded at load time: every part of the reader and the plan, with the one op every branch has.
    /// </summary>
    public static byte[] IdentityChain() => Model(g => g
        .Node("Identity", "first", ["x"], ["a"])
        .Node("Identity", "second", ["a"], ["y"])
        .Node("Identity", "weight_copy", ["w"], ["w_out"])
        .Node("Identity", "shape_copy", ["shape"], ["shape_out"])
        .String(2, "chain")
        .Floats("w", [2, 2], 1f, 2f, 3f, 4f)
        .Tensor("shape", Int64, [3], MemoryMarshal.AsBytes(new long[] { 1, 2, 3 }.AsSpan()).ToArray())
        .Input("x", 1, 2, 3)
        .Output("y", 1, 2, 3)
        .Output("w_out", 2, 2));
}
