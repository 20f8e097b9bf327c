namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// The input X [N, C, D1, …, Dk], weight W and optional bias B of a Conv (W [O, C / group, k1, …, kk]) or a
/// ConvTranspose (W [C, O / group, k1, …, kk]), checked against each other and the group, and how their
/// (image, group) pieces are run. Messages name the operand and its shape; the graph adds the node's name.
/// </summary>
internal sealed record ConvOperands(Tensor X, Tensor W, Tensor? B, int Group, int OutChannels)
{
    public int Batch => X.Shape[0];

    public int InChannels => X.Shape[1];

    /// <summary>D1, …, Dk of the input.</summary>
    public int[] InputSpatial => X.Shape.ToArray()[2..];

    /// <summary>k1, …, kk: the weight's spatial sizes (kernel_shape, when given, must equal them).</summary>
    public int[] Kernel => W.Shape.ToArray()[2..];

    /// <summary>The group attribute: a positive count (default 1).</summary>
    public static int ReadGroup(OnnxNodeContext node)
    {
        long group = node.Int("group", 1);
        if (group < 1 || group > int.MaxValue) throw node.Invalid($"group {group} must be a positive count");
        return (int)group;
    }

    /// <summary>Fails at load time without a weight input, or when a constant weight (the usual case) cannot fit kernel_shape or the group.</summary>
    public static void CheckWeight(OnnxNodeContext node, int[]? kernelShape, int group, bool transposed)
    {
        if (!node.HasInput(0) || !node.HasInput(1)) throw node.Invalid("needs an input X and a weight W");
        if (node.Constant(1) is { } w && WeightProblem(w.Dims, kernelShape, group, transposed) is { } problem) throw node.Invalid(problem);
    }

    /// <summary>Reads and checks the operands of one run; throws ArgumentException naming shapes.</summary>
    public static ConvOperands Of(OnnxValue?[] inputs, int[]? kernelShape, int group, bool transposed)
    {
        var x = inputs[0]!.FloatData("input X");
        var w = inputs[1]!.FloatData("weight W");
        var b = inputs.Length > 2 ? inputs[2]?.FloatData("bias B") : null;
        if (x.Rank < 3) throw new ArgumentException($"input X {x.Shape} must be [N, C, D1, …] with at least one spatial axis");
        if (WeightProblem(w.Shape.ToArray(), kernelShape, group, transposed) is { } problem) throw new ArgumentException(problem);
        if (w.Rank != x.Rank) throw new ArgumentException($"weight W {w.Shape} has {w.Rank} dimensions, input X {x.Shape} has {x.Rank}");
        int expected = transposed ? w.Shape[0] : w.Shape[1] * group;
        if (x.Shape[1] != expected)
        {
            string rule = transposed ? "its dimension 0" : $"its dimension 1 × group {group}";
            throw new ArgumentException($"input X {x.Shape} has {x.Shape[1]} channels, weight W {w.Shape} expects {expected} ({rule})");
        }
        int outChannels = transposed ? w.Shape[1] * group : w.Shape[0];
        if (b is not null && (b.Rank != 1 || b.Shape[0] != outChannels))
            throw new ArgumentException($"bias B {b.Shape} must be [{outChannels}], one value per output channel");
        return new ConvOperands(x, w, b, group, outChannels);
    }

    /// <summary>
    /// Runs <paramref name="run"/>(image · group + g) for every image and group. With at least as many pieces as
    /// threads they are split across threads; otherwise they run in order and the GEMM and channel loops inside fork.
    /// </summary>
    public static void ForEachImageGroup(int batch, int group, Action<int> run)
    {
        int items = batch * group;
        if (items >= Parallelism.Threads)
        {
            Parallelism.For(items, (start, end) =>
            {
                for (int i = start; i < end; i++) run(i);
            });
        }
        else
        {
            for (int i = 0; i < items; i++) run(i);
        }
    }

    private static string? WeightProblem(int[] dims, int[]? kernelShape, int group, bool transposed)
    {
        string shape = TensorShape.Format(dims);
        string layout = transposed ? "[C, O / group, k1, …]" : "[O, C / group, k1, …]";
        if (dims.Length < 3) return $"weight W {shape} must be {layout} with at least one spatial axis";
        if (dims.Skip(1).Any(d => d < 1)) return $"weight W {shape} has an empty dimension";
        if (kernelShape is not null && !kernelShape.AsSpan().SequenceEqual(dims.AsSpan(2)))
            return $"kernel_shape {TensorShape.Format(kernelShape)} differs from the spatial sizes of weight W {shape}";
        if (dims[0] % group != 0)
            return $"weight W {shape} has {dims[0]} {(transposed ? "input" : "output")} channels, not a multiple of group {group}";
        return null;
    }
}
