namespace Fovea.Onnx.Import;

/// <summary>
/// Rewrites an imported graph for inference, before it is planned, as ONNX Runtime's graph optimiser does:
/// every BatchNormalization in inference mode that reads a Conv's output (and nothing else reads it) is
/// folded into that Conv's weights and bias (<see cref="BatchNormFolding"/>); then a Relu that alone reads
/// a 2-D Conv's output, and a 2×2 stride-2 MaxPool that alone reads that Relu's, are merged into the Conv
/// node as attributes its kernel applies on the way out (Fovea's fused conv epilogue). One op runs instead
/// of three and the full-size activations are never written and read back. A Clip with constant bounds
/// (MobileNet's ReLU6) that alone reads a Conv's output is merged likewise: the conv clamps its output as it
/// stores it (or in place where its kernel does not fuse). The function computed is unchanged up to float rounding (the fusion itself is bitwise); graphs
/// loaded for training keep every node.
/// </summary>
internal static partial class InferenceRewrite
{
    /// <summary>Attributes the rewrite gives a Conv node (names no ONNX exporter writes).</summary>
    public const string FusedRelu = "fovea_fused_relu", FusedMaxPool = "fovea_fused_maxpool_2x2";

    /// <summary>
    /// Ints attribute the rewrite gives a Conv node whose ReLU a MaxPool other than the plain 2×2 one alone read (2-D, no
    /// dilation; padding symmetric, or heavier at the end without ceil mode): kernel height and width, strides, padding
    /// (top, left, bottom, right), ceil mode.
    /// </summary>
    public const string FusedMaxPoolWindow = "fovea_fused_maxpool";

    /// <summary>Float attributes the rewrite gives a Conv node whose output a Clip clamped.</summary>
    public const string FusedClipMin = "fovea_fused_clip_min", FusedClipMax = "fovea_fused_clip_max";

    /// <summary>Rewrites <paramref name="graph"/> of a model importing <paramref name="opset"/> of the default domain (Clip's bounds moved from attributes to inputs at 11).</summary>
    public static OnnxGraphProto Apply(OnnxGraphProto graph, long opset)
    {
        var fused = MergeBranches(FuseActivations(FoldBatchNorms(BypassConstantIdentities(graph)), opset));
        return KeepChannelBlocks(opset >= 7 ? FuseResiduals(fused) : fused);
    }

    /// <summary>
    /// Identity nodes of an initialiser (torch.onnx writes equal initialisers once and passes the copies through them:
    /// SqueezeNet's biases, all zeros when exported untrained) are bypassed: their readers read the initialiser, so the
    /// other passes see the constant, and the node goes. One whose output is a graph output stays.
    /// </summary>
    private static OnnxGraphProto BypassConstantIdentities(OnnxGraphProto graph)
    {
        var initializers = graph.Initializers.Select(i => i.Name).ToHashSet();
        var outputs = graph.Outputs.Select(o => o.Name).ToHashSet();
        var aliases = new Dictionary<string, string>();
        foreach (var node in graph.Nodes)
            if (node is { OpType: "Identity", Domain: "", Inputs.Count: 1, Outputs.Count: 1 } && initializers.Contains(node.Inputs[0])
                && !outputs.Contains(node.Outputs[0]) && !initializers.Contains(node.Outputs[0]))
                aliases.TryAdd(node.Outputs[0], node.Inputs[0]);
        if (aliases.Count == 0) return graph;
        var nodes = graph.Nodes
            .Where(n => !(n.OpType == "Identity" && n.Outputs.Count == 1 && aliases.ContainsKey(n.Outputs[0])))
            .Select(n => n.Inputs.Any(aliases.ContainsKey) ? n with { Inputs = n.Inputs.Select(i => aliases.GetValueOrDefault(i, i)).ToArray() } : n)
            .ToArray();
        return graph with { Nodes = nodes };
    }

    /// <summary>Attribute the rewrite gives the Conv node that two branches' convs became (see <see cref="MergeBranches"/>).</summary>
    public const string MergedBranches = "fovea_merged_branches";

    /// <summary>
    /// A 1×1 conv and a 3×3 conv with "same" padding, of the same input, whose outputs a Concat along channels alone reads
    /// (a SqueezeNet Fire module's expands), with the same fused activation, become one 3×3 conv that writes the Concat's
    /// output: the 1×1 conv's weights at the centre taps, zeros at the others, which <see cref="Kernels.ChannelVectorConv"/>
    /// skips for whole blocks of channels (<see cref="MergedBranches"/> sends the node there). The Concat's copy, one pass
    /// over the input and one parallel region go. Each output sums the same products (plus, for 1×1 channels sharing a
    /// block with 3×3 ones, zeros), though not always in the order the separate 1×1 conv's kernel would.
    /// </summary>
    private static OnnxGraphProto MergeBranches(OnnxGraphProto graph)
    {
        if (UniqueInitializers(graph) is not { } initializers) return graph;
        var readers = Readers(graph);
        var producers = Producers(graph);

        var nodes = graph.Nodes.ToArray();
        var removed = new HashSet<int>();
        var added = new List<(string Name, OnnxValue Value)>();
        for (int k = 0; k < nodes.Length; k++)
        {
            var concat = nodes[k];
            if (concat is not { OpType: "Concat", Domain: "", Inputs.Count: 2, Outputs.Count: 1 } || concat.Attributes.Count != 1
                || !concat.Attributes.TryGetValue("axis", out var axis) || axis.Int != 1) continue;
            if (!producers.TryGetValue(concat.Inputs[0], out int a) || !producers.TryGetValue(concat.Inputs[1], out int b) || a == b
                || SoleReader(concat.Inputs[0], readers) != k || SoleReader(concat.Inputs[1], readers) != k) continue;
            if (Branch(nodes[a], initializers) is not { } first || Branch(nodes[b], initializers) is not { } second
                || nodes[a].Inputs[0] != nodes[b].Inputs[0] || first.Side == second.Side || first.Weight.Dims[1] != second.Weight.Dims[1]
                || !SameActivation(nodes[a], nodes[b])) continue;
            var (weight, bias) = Merge(first, second);
            string weightName = Unique(concat.Outputs[0] + "_merged_weight", initializers);
            initializers[weightName] = weight;
            added.Add((weightName, weight));
            var inputs = new List<string> { nodes[a].Inputs[0], weightName };
            if (bias is not null)
            {
                string biasName = Unique(concat.Outputs[0] + "_merged_bias", initializers);
                initializers[biasName] = bias;
                added.Add((biasName, bias));
                inputs.Add(biasName);
            }
            var wide = first.Side == 3 ? nodes[a] : nodes[b];
            var attributes = new Dictionary<string, OnnxAttributeProto>(wide.Attributes) { [MergedBranches] = Flag(MergedBranches) };
            string output = concat.Outputs[0];
            // A max pool the Concat's output alone feeds (SqueezeNet's after its fourth and eighth Fire modules) joins too.
            if (attributes.ContainsKey(FusedRelu) && SoleReader(output, readers) is int p && MaxPoolWindow(nodes[p]) is { } window)
            {
                attributes[FusedMaxPoolWindow] = Window(window);
                output = nodes[p].Outputs[0];
                removed.Add(p);
            }
            nodes[k] = wide with { Inputs = inputs, Outputs = [output], Attributes = attributes };
            removed.Add(a);
            removed.Add(b);
        }
        return removed.Count == 0 ? graph : Without(graph, nodes, removed, graph.Initializers.Concat(added));
    }

    /// <summary>A branch conv <see cref="MergeBranches"/> takes: its kernel side (1 or 3) and its float weight [O, C, k, k] and bias [O] (or none) initialisers.</summary>
    private sealed record BranchConv(int Side, OnnxValue Weight, OnnxValue? Bias);

    /// <summary>
    /// A plain 2-D conv of side 1 (no padding) or 3 (padding 1 on every side): stride and dilation 1, one group, no
    /// auto_pad, its weight and bias float initialisers, and nothing fused into it but a ReLU or a clip. Null otherwise.
    /// </summary>
    private static BranchConv? Branch(OnnxNodeProto conv, Dictionary<string, OnnxValue> initializers)
    {
        if (!IsPlain2dConv(conv) || conv.Inputs.Count is < 2 or > 3) return null;
        int side = conv.Attributes["kernel_shape"].Ints is [1L, 1L] ? 1 : conv.Attributes["kernel_shape"].Ints is [3L, 3L] ? 3 : 0;
        if (side == 0) return null;
        foreach (var (name, a) in conv.Attributes)
        {
            bool plain = name switch
            {
                "kernel_shape" or FusedRelu or FusedClipMin or FusedClipMax => true,
                "pads" => a.Ints.Count == 4 && a.Ints.All(p => p == side / 2),
                "strides" or "dilations" => a.Ints.All(v => v == 1),
                "group" => a.Int == 1,
                "auto_pad" => a.String == "NOTSET",
                _ => false,
            };
            if (!plain) return null;
        }
        if (side == 3 && !conv.Attributes.ContainsKey("pads")) return null;
        if (!initializers.TryGetValue(conv.Inputs[1], out var weight) || !weight.IsFloat || weight.Dims.Length != 4
            || weight.Dims[2] != side || weight.Dims[3] != side) return null;
        OnnxValue? bias = null;
        if (conv.Inputs.Count == 3 && conv.Inputs[2].Length > 0
            && (!initializers.TryGetValue(conv.Inputs[2], out bias) || !bias.IsFloat || bias.Dims is not [var o] || o != weight.Dims[0])) return null;
        return new BranchConv(side, weight, bias);
    }

    /// <summary>Whether two convs have the same activation fused into them (a ReLU, the same clip, or none).</summary>
    private static bool SameActivation(OnnxNodeProto a, OnnxNodeProto b)
    {
        foreach (var name in new[] { FusedRelu, FusedClipMin, FusedClipMax })
        {
            bool inA = a.Attributes.TryGetValue(name, out var x), inB = b.Attributes.TryGetValue(name, out var y);
            if (inA != inB || inA && (x!.Int != y!.Int || !x.Float.Equals(y.Float))) return false;
        }
        return true;
    }

    /// <summary>The two branches' weights as one 3×3 conv's, in the Concat's order (a 1×1 kernel at the centre tap), and their biases (zeros for one without).</summary>
    private static (OnnxValue Weight, OnnxValue? Bias) Merge(BranchConv first, BranchConv second)
    {
        int channels = first.Weight.Dims[1], outputs = first.Weight.Dims[0] + second.Weight.Dims[0];
        var weight = Tensor.Zeros(outputs, channels, 3, 3);
        var bias = first.Bias is null && second.Bias is null ? null : Tensor.Zeros(outputs);
        var target = weight.Span;
        int offset = 0;
        foreach (var branch in new[] { first, second })
        {
            float[] w = branch.Weight.Floats!.ToArray();
            int count = branch.Weight.Dims[0];
            if (branch.Side == 3) w.CopyTo(target[(offset * channels * 9)..]);
            else
                for (int f = 0; f < count * channels; f++) target[(offset * channels + f) * 9 + 4] = w[f];
            if (bias is not null && branch.Bias is not null) branch.Bias.Floats!.Span.CopyTo(bias.Span[offset..]);
            offset += count;
        }
        return (OnnxValue.Float(weight), bias is null ? null : OnnxValue.Float(bias));
    }

    /// <summary>
    /// Attribute the rewrite gives a Conv node whose output an Add alone read: the Add's other operand became the node's
    /// fourth input, added to the output before the activation (<see cref="FusedRelu"/>, where a Relu alone read the sum).
    /// </summary>
    public const string FusedResidual = "fovea_fused_residual";

    /// <summary>
    /// Conv → Add (→ Relu), each link read by the next alone, the end of a ResNet block, becomes one Conv node that adds
    /// the shortcut as it stores its output (where its kernel takes it; otherwise the node runs the three ops itself).
    /// The node moves to the Add's place, after the shortcut's producer. Only from opset 7, whose Add broadcasts as NumPy
    /// does; the fused node falls back to that Add when the shapes differ.
    /// </summary>
    private static OnnxGraphProto FuseResiduals(OnnxGraphProto graph)
    {
        var readers = Readers(graph);
        var nodes = graph.Nodes.ToArray();
        var removed = new HashSet<int>();
        for (int c = 0; c < nodes.Length; c++)
        {
            var conv = nodes[c];
            if (!IsPlain2dConv(conv) || conv.Inputs.Count is < 2 or > 3 || conv.Attributes.Keys.Any(k => k.StartsWith("fovea_", StringComparison.Ordinal))) continue;
            if (SoleReader(conv.Outputs[0], readers) is not int a || nodes[a] is not { OpType: "Add", Domain: "", Inputs.Count: 2, Outputs.Count: 1 } add
                || add.Attributes.Count > 0) continue;
            string shortcut = add.Inputs[0] == conv.Outputs[0] ? add.Inputs[1] : add.Inputs[0];
            if (shortcut == conv.Outputs[0] || shortcut.Length == 0) continue;
            var attributes = new Dictionary<string, OnnxAttributeProto>(conv.Attributes) { [FusedResidual] = Flag(FusedResidual) };
            var last = add;
            if (SoleReader(add.Outputs[0], readers) is int r && nodes[r] is { OpType: "Relu", Domain: "", Inputs.Count: 1, Outputs.Count: 1 } relu)
            {
                attributes[FusedRelu] = Flag(FusedRelu);
                last = relu;
                removed.Add(r);
            }
            removed.Add(c);
            nodes[a] = conv with
            {
                Inputs = [conv.Inputs[0], conv.Inputs[1], conv.Inputs.Count > 2 ? conv.Inputs[2] : "", shortcut],
                Outputs = [last.Outputs[0]],
                Attributes = attributes,
            };
        }
        return removed.Count == 0 ? graph : graph with { Nodes = nodes.Where((_, i) => !removed.Contains(i)).ToArray() };
    }

    /// <summary>Conv → Relu (→ 2×2 MaxPool) and Conv → Clip chains, each link read by the next alone, become one Conv node.</summary>
    private static OnnxGraphProto FuseActivations(OnnxGraphProto graph, long opset)
    {
        var readers = Readers(graph);
        var constants = ScalarConstants(graph);
        var nodes = graph.Nodes.ToArray();
        var removed = new HashSet<int>();
        for (int c = 0; c < nodes.Length; c++)
        {
            var conv = nodes[c];
            if (!IsPlain2dConv(conv) || conv.Attributes.ContainsKey(FusedRelu)) continue;
            if (SoleReader(conv.Outputs[0], readers) is not int r || nodes[r].Domain.Length > 0 || nodes[r].Outputs.Count != 1) continue;
            if (nodes[r].OpType == "Clip" && ClipBounds(nodes[r], opset, constants) is var (min, max))
            {
                nodes[c] = conv with
                {
                    Outputs = [nodes[r].Outputs[0]],
                    Attributes = new Dictionary<string, OnnxAttributeProto>(conv.Attributes) { [FusedClipMin] = Number(FusedClipMin, min), [FusedClipMax] = Number(FusedClipMax, max) },
                };
                removed.Add(r);
                continue;
            }
            if (nodes[r].OpType != "Relu") continue;
            var attributes = new Dictionary<string, OnnxAttributeProto>(conv.Attributes) { [FusedRelu] = Flag(FusedRelu) };
            var last = nodes[r];
            removed.Add(r);
            if (SoleReader(last.Outputs[0], readers) is int p && IsPlainMaxPool2x2(nodes[p]))
            {
                attributes[FusedMaxPool] = Flag(FusedMaxPool);
                last = nodes[p];
                removed.Add(p);
            }
            else if (SoleReader(last.Outputs[0], readers) is int q && MaxPoolWindow(nodes[q]) is { } window)
            {
                attributes[FusedMaxPoolWindow] = Window(window);
                last = nodes[q];
                removed.Add(q);
            }
            nodes[c] = conv with { Outputs = [last.Outputs[0]], Attributes = attributes };
        }
        return removed.Count == 0 ? graph : graph with { Nodes = nodes.Where((_, i) => !removed.Contains(i)).ToArray() };
    }

    /// <summary>A default-domain Conv with one output and a 2-D kernel: the only convs the fused epilogue serves.</summary>
    private static bool IsPlain2dConv(OnnxNodeProto node) =>
        node.OpType == "Conv" && node.Domain.Length == 0 && node.Outputs.Count == 1
        && node.Attributes.TryGetValue("kernel_shape", out var kernel) && kernel.Ints.Count == 2;

    /// <summary>For each value, the indices of the nodes that read it, and -1 when it is a graph output.</summary>
    private static Dictionary<string, List<int>> Readers(OnnxGraphProto graph)
    {
        var readers = new Dictionary<string, List<int>>();
        void Add(string value, int reader) => (readers.TryGetValue(value, out var list) ? list : readers[value] = []).Add(reader);
        for (int i = 0; i < graph.Nodes.Count; i++)
            foreach (var input in graph.Nodes[i].Inputs) Add(input, i);
        foreach (var output in graph.Outputs) Add(output.Name, -1);
        return readers;
    }

    /// <summary>The initialisers by name; null when a name repeats (a damaged graph, left for the plan to reject with a clear message).</summary>
    private static Dictionary<string, OnnxValue>? UniqueInitializers(OnnxGraphProto graph)
    {
        var initializers = new Dictionary<string, OnnxValue>();
        foreach (var (name, value) in graph.Initializers)
            if (!initializers.TryAdd(name, value)) return null;
        return initializers;
    }

    /// <summary>For each value a node writes, the index of the first node that writes it.</summary>
    private static Dictionary<string, int> Producers(OnnxGraphProto graph)
    {
        var producers = new Dictionary<string, int>();
        for (int i = 0; i < graph.Nodes.Count; i++)
            foreach (var output in graph.Nodes[i].Outputs) producers.TryAdd(output, i);
        return producers;
    }

    /// <summary>The graph with <paramref name="nodes"/> but those <paramref name="removed"/>, and of <paramref name="initializers"/> those still read.</summary>
    private static OnnxGraphProto Without(OnnxGraphProto graph, OnnxNodeProto[] nodes, HashSet<int> removed, IEnumerable<(string Name, OnnxValue Value)> initializers)
    {
        var kept = nodes.Where((_, i) => !removed.Contains(i)).ToArray();
        var used = kept.SelectMany(n => n.Inputs).Concat(graph.Outputs.Select(o => o.Name)).ToHashSet();
        return graph with { Nodes = kept, Initializers = initializers.Where(i => used.Contains(i.Name)).ToArray() };
    }

    /// <summary>The node that alone reads <paramref name="value"/>; null when several do, none does, or it is a graph output.</summary>
    private static int? SoleReader(string value, Dictionary<string, List<int>> readers) =>
        readers.TryGetValue(value, out var list) && list.Count == 1 && list[0] >= 0 ? list[0] : null;

    /// <summary>MaxPool with a 2×2 window, stride 2, no padding, dilation or ceil mode, and no Indices output.</summary>
    private static bool IsPlainMaxPool2x2(OnnxNodeProto node)
    {
        if (node.OpType != "MaxPool" || node.Domain.Length > 0 || node.Outputs.Count != 1) return false;
        foreach (var (name, a) in node.Attributes)
        {
            bool plain = name switch
            {
                "kernel_shape" or "strides" => a.Ints.SequenceEqual([2L, 2L]),
                "pads" => a.Ints.All(p => p == 0),
                "dilations" => a.Ints.All(d => d == 1),
                "auto_pad" => a.String is "NOTSET" or "VALID",
                "ceil_mode" or "storage_order" => a.Int == 0,
                _ => false,
            };
            if (!plain) return false;
        }
        return node.Attributes.ContainsKey("kernel_shape") && node.Attributes.ContainsKey("strides");
    }

    /// <summary>
    /// A 2-D MaxPool with one output, no dilation and row-major storage, its padding at most half the window and symmetric
    /// (or heavier at the end, without ceil mode), as [kernel H, kernel W, stride H, stride W, pad top, left, bottom,
    /// right, ceil mode]; null for anything else.
    /// </summary>
    private static long[]? MaxPoolWindow(OnnxNodeProto node)
    {
        if (node.OpType != "MaxPool" || node.Domain.Length > 0 || node.Outputs.Count != 1
            || !node.Attributes.TryGetValue("kernel_shape", out var kernel) || kernel.Ints.Count != 2) return null;
        // ONNX's defaults: stride 1, no padding, floor.
        long[] window = [kernel.Ints[0], kernel.Ints[1], 1, 1, 0, 0, 0, 0, 0];
        foreach (var (name, a) in node.Attributes)
        {
            bool plain = name switch
            {
                "kernel_shape" => true,
                "strides" => a.Ints.Count == 2,
                "pads" => a.Ints.Count == 4,
                "dilations" => a.Ints.All(d => d == 1),
                "auto_pad" => a.String is "NOTSET" or "VALID",
                "ceil_mode" => a.Int is 0 or 1,
                "storage_order" => a.Int == 0,
                _ => false,
            };
            if (!plain) return null;
            if (name == "strides") (window[2], window[3]) = (a.Ints[0], a.Ints[1]);
            if (name == "pads") a.Ints.ToArray().CopyTo(window, 4);
            if (name == "ceil_mode") window[8] = a.Int;
        }
        bool symmetric = window[4] == window[6] && window[5] == window[7];
        bool fits = window[4] <= window[0] / 2 && window[5] <= window[1] / 2 && window[6] < window[0] && window[7] < window[1]
            && window[2] > 0 && window[3] > 0 && window[4] >= 0 && window[5] >= 0 && window[6] >= window[4] && window[7] >= window[5];
        return fits && (symmetric || window[8] == 0) ? window : null;
    }

    private static OnnxAttributeProto Window(long[] window) => new(FusedMaxPoolWindow, OnnxAttributeType.Ints, 0, 0, "", null, [], window, []);

    private static OnnxAttributeProto Flag(string name) => new(name, OnnxAttributeType.Int, 0, 1, "", null, [], [], []);

    private static OnnxAttributeProto Number(string name, float value) => new(name, OnnxAttributeType.Float, value, 0, "", null, [], [], []);

    /// <summary>
    /// A Clip's bounds when they are known at load time: float attributes before opset 11, else absent inputs or
    /// float scalars held by initialisers or Constant nodes. Null for anything else, which the Clip op itself handles.
    /// </summary>
    private static (float Min, float Max)? ClipBounds(OnnxNodeProto clip, long opset, Dictionary<string, float> constants)
    {
        if (opset < 11)
        {
            if (clip.Inputs.Count != 1 || clip.Attributes.Any(a => a.Key is not ("min" or "max") || a.Value.Type != OnnxAttributeType.Float)) return null;
            return (clip.Attributes.TryGetValue("min", out var lo) ? lo.Float : float.NegativeInfinity,
                clip.Attributes.TryGetValue("max", out var hi) ? hi.Float : float.PositiveInfinity);
        }
        if (clip.Attributes.Count > 0 || clip.Inputs.Count > 3) return null;
        float? Bound(int i, float absent) =>
            i >= clip.Inputs.Count || clip.Inputs[i].Length == 0 ? absent : constants.TryGetValue(clip.Inputs[i], out float v) ? v : null;
        return Bound(1, float.NegativeInfinity) is float min && Bound(2, float.PositiveInfinity) is float max ? (min, max) : null;
    }

    /// <summary>The float scalars (one element, any rank) held by initialisers and by Constant nodes' value tensors.</summary>
    private static Dictionary<string, float> ScalarConstants(OnnxGraphProto graph)
    {
        var scalars = new Dictionary<string, float>();
        foreach (var (name, value) in graph.Initializers)
            if (value.Floats is { Length: 1 } t) scalars[name] = t.Span[0];
        foreach (var node in graph.Nodes)
            if (node.OpType == "Constant" && node.Domain.Length == 0 && node.Outputs.Count == 1 && node.Attributes.Count == 1
                && node.Attributes.TryGetValue("value", out var a) && a.Tensor?.Floats is { Length: 1 } t)
                scalars[node.Outputs[0]] = t.Span[0];
        return scalars;
    }

    private static OnnxGraphProto FoldBatchNorms(OnnxGraphProto graph)
    {
        if (UniqueInitializers(graph) is not { } initializers) return graph;
        var readers = Readers(graph);
        var producers = Producers(graph);

        var nodes = graph.Nodes.ToArray();
        var removed = new HashSet<int>();
        var replaced = new Dictionary<string, OnnxValue>();
        var added = new List<(string Name, OnnxValue Value)>();
        for (int b = 0; b < nodes.Length; b++)
        {
            var bn = nodes[b];
            if (!IsInferenceBatchNorm(bn, initializers)) continue;
            if (!producers.TryGetValue(bn.Inputs[0], out int c) || removed.Contains(c)) continue;
            var conv = nodes[c];
            if (conv.OpType != "Conv" || conv.Domain.Length > 0 || readers[bn.Inputs[0]].Count != 1) continue;
            if (conv.Inputs.Count < 2 || !initializers.TryGetValue(conv.Inputs[1], out var weight) || !weight.IsFloat || readers[conv.Inputs[1]].Count != 1) continue;
            OnnxValue? bias = null;
            if (conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0 && (!initializers.TryGetValue(conv.Inputs[2], out bias) || !bias.IsFloat || readers[conv.Inputs[2]].Count != 1)) continue;
            var (gamma, beta, mean, variance) = (initializers[bn.Inputs[1]], initializers[bn.Inputs[2]], initializers[bn.Inputs[3]], initializers[bn.Inputs[4]]);
            int channels = weight.Dims.Length > 0 ? weight.Dims[0] : -1;
            if (new[] { gamma, beta, mean, variance }.Any(t => t.Dims.Length != 1 || t.Dims[0] != channels) || bias is not null && bias.Length != channels) continue;

            double eps = bn.Attributes.TryGetValue("epsilon", out var e) ? e.Float : 1e-5;
            var (w, bb) = BatchNormFolding.Fold(weight.Floats!, bias?.Floats, gamma.Floats, beta.Floats, mean.Floats!, variance.Floats!, eps);
            string biasName = bias is not null ? conv.Inputs[2] : Unique(conv.Inputs[1] + "_folded_bias", initializers);
            replaced[conv.Inputs[1]] = OnnxValue.Float(w);
            if (bias is not null) replaced[biasName] = OnnxValue.Float(bb);
            else
            {
                added.Add((biasName, OnnxValue.Float(bb)));
                initializers[biasName] = OnnxValue.Float(bb);
            }
            nodes[c] = conv with { Inputs = [conv.Inputs[0], conv.Inputs[1], biasName], Outputs = [bn.Outputs[0]] };
            removed.Add(b);
        }
        return removed.Count == 0 ? graph
            : Without(graph, nodes, removed, graph.Initializers.Select(i => (i.Name, replaced.TryGetValue(i.Name, out var v) ? v : i.Value)).Concat(added));
    }

    /// <summary>A BatchNormalization with one output, inference semantics and all four parameters as float initialisers.</summary>
    private static bool IsInferenceBatchNorm(OnnxNodeProto node, Dictionary<string, OnnxValue> initializers)
    {
        if (node.OpType != "BatchNormalization" || node.Domain.Length > 0 || node.Inputs.Count != 5) return false;
        if (node.Outputs.Skip(1).Any(o => o.Length > 0)) return false; // running statistics asked for: training
        if (node.Attributes.TryGetValue("training_mode", out var t) && t.Int != 0) return false;
        if (node.Attributes.TryGetValue("spatial", out var s) && s.Int != 1) return false;
        if (node.Attributes.Keys.Except(["epsilon", "momentum", "training_mode", "spatial", "is_test", "consumed_inputs"]).Any()) return false;
        // A mistyped epsilon is left for the BatchNormalization op to report.
        if (node.Attributes.TryGetValue("epsilon", out var e) && e.Type is not (OnnxAttributeType.Float or OnnxAttributeType.Undefined)) return false;
        return node.Inputs.Skip(1).All(i => initializers.TryGetValue(i, out var v) && v.IsFloat);
    }

    private static string Unique(string name, Dictionary<string, OnnxValue> taken)
    {
        string candidate = name;
        for (int i = 2; taken.ContainsKey(candidate); i++) candidate = $"{name}_{i}";
        return candidate;
    }
}
