using Fovea.Nn;

namespace Fovea.Onnx;

/// <summary>
/// Writes a Fovea model as an ONNX graph in evaluation mode: input "input" [N, C, H, W] with a symbolic
/// batch "N", output "logits", weights as initialisers named after the state dict. Every layer of
/// <see cref="Zoo"/> is supported (see <see cref="OnnxLowering"/>); any other layer is an ArgumentException.
/// </summary>
public static class OnnxExporter
{
    /// <summary>The opsets written: every op emitted has the same meaning from 13 to 17 (Pad changed in 18).</summary>
    public const int MinOpset = 13, MaxOpset = 17;

    /// <summary>Writes the model to <paramref name="path"/> through a temporary file, so a failed export leaves no half-written model.</summary>
    public static void Export(Module model, int channels, int height, int width, string path, int opset = 13, bool foldBatchNorm = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = ToBytes(model, channels, height, width, opset, foldBatchNorm);
        string temp = path + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The serialised ModelProto for [N, <paramref name="channels"/>, <paramref name="height"/>, <paramref name="width"/>] input.</summary>
    public static byte[] ToBytes(Module model, int channels, int height, int width, int opset = 13, bool foldBatchNorm = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (opset is < MinOpset or > MaxOpset)
            throw new ArgumentException($"ONNX export: opset must be {MinOpset} to {MaxOpset}. Received {opset}");
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException($"ONNX export: input sizes must be positive. Received {channels}x{height}x{width}");

        var graph = new OnnxGraph(opset);
        // Eval mode for the walk (BatchNorm uses running statistics, Dropout is the identity); restored afterwards.
        using var _ = model.Inference();
        var input = new TensorShape(1, channels, height, width);
        var (output, shape) = new OnnxLowering(graph, foldBatchNorm).Lower(model, "", "input", input);
        graph.NamedNode("logits", "Identity", [output]);
        return graph.ToModel("input", [-1, channels, height, width], "logits", [.. shape.ToArray().Select(d => (long)d)]);
    }
}
