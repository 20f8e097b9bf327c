namespace Fovea.Onnx.Import;

internal static partial class InferenceRewrite
{
    /// <summary>
    /// Ints attribute the rewrite gives a Conv node whose output only convs that may read channel blocks read (see
    /// <see cref="KeepChannelBlocks"/>): for each reader, <see cref="ReaderInts"/> ints, its output channels, kernel
    /// height and width, strides, pads (top, left) and dilations, and whether it is merged branches.
    /// </summary>
    public const string BlockedOutput = "fovea_blocked_output";

    /// <summary>Ints per reader in <see cref="BlockedOutput"/>.</summary>
    public const int ReaderInts = 10;

    /// <summary>
    /// A Conv whose output only other Convs read, each as its input X, all of them 2-D with one group and symmetric
    /// explicit pads (so that the channel-vectorised kernel can run them: fewer than 16 output channels only on maps of
    /// fewer than 16 pixels, SqueezeNet-style's 10-class classifier on 2×2 maps), may write its
    /// output in channel blocks (<see cref="Kernels.ChannelBlocks"/>): as in ONNX Runtime's NCHWc graphs, the tiles'
    /// vectors are stored whole and the readers read them as they are. Whether it does is decided per run, as the kernels
    /// are chosen by the batch and the maps' sizes: only where it and every reader run on kernels that give the same bits
    /// in blocks (<see cref="F.RunsInChannelBlocks"/>), which is why the readers' geometry goes with the node. A graph
    /// output, or a value any other op reads, stays in planes.
    /// </summary>
    private static OnnxGraphProto KeepChannelBlocks(OnnxGraphProto graph)
    {
        if (UniqueInitializers(graph) is not { } initializers) return graph;
        var readers = Readers(graph);
        var nodes = graph.Nodes.ToArray();
        var geometries = nodes.Select(n => ReaderGeometry(n, initializers)).ToArray();
        bool changed = false;
        for (int c = 0; c < nodes.Length; c++)
        {
            var conv = nodes[c];
            if (geometries[c] is null || conv.Attributes.ContainsKey(FusedResidual)
                || !readers.TryGetValue(conv.Outputs[0], out var list) || list.Count == 0
                || !list.All(r => r >= 0 && geometries[r] is not null && nodes[r].Inputs[0] == conv.Outputs[0]
                    && !nodes[r].Inputs.Skip(1).Contains(conv.Outputs[0]))) continue;
            long[] geometry = list.Distinct().SelectMany(r => geometries[r]!).ToArray();
            var attribute = new OnnxAttributeProto(BlockedOutput, OnnxAttributeType.Ints, 0, 0, "", null, [], geometry, []);
            nodes[c] = conv with { Attributes = new Dictionary<string, OnnxAttributeProto>(conv.Attributes) { [BlockedOutput] = attribute } };
            changed = true;
        }
        return changed ? graph with { Nodes = nodes } : graph;
    }

    /// <summary>
    /// A 2-D Conv of one group, with symmetric explicit pads (or none) and a constant weight, as its
    /// <see cref="ReaderInts"/> ints in <see cref="BlockedOutput"/>; null for any other node.
    /// </summary>
    private static long[]? ReaderGeometry(OnnxNodeProto node, Dictionary<string, OnnxValue> initializers)
    {
        if (!IsPlain2dConv(node) || node.Attributes.TryGetValue("group", out var group) && group.Int != 1 || node.Inputs.Count < 2
            || !initializers.TryGetValue(node.Inputs[1], out var weight) || weight.Dims is not [> 0, _, var kh, var kw]
            || node.Attributes.TryGetValue("auto_pad", out var autoPad) && autoPad.String is not ("NOTSET" or "VALID")) return null;
        long[] strides = Pair(node, "strides"), dilations = Pair(node, "dilations");
        long[] pads = node.Attributes.TryGetValue("pads", out var p) ? p.Ints.ToArray() : [0, 0, 0, 0];
        if (pads is not [var top, var left, var bottom, var right] || top != bottom || left != right) return null;
        return [weight.Dims[0], kh, kw, strides[0], strides[1], top, left, dilations[0], dilations[1], node.Attributes.ContainsKey(MergedBranches) ? 1 : 0];
    }

    /// <summary>A 2-D conv's (height, width) ints attribute, 1s when absent.</summary>
    private static long[] Pair(OnnxNodeProto node, string name) =>
        node.Attributes.TryGetValue(name, out var a) && a.Ints.Count == 2 ? a.Ints.ToArray() : [1, 1];
}
