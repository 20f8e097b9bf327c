using System.Numerics;

namespace Fovea.Onnx.Import.Ops;

/// <summary>How Pad fills the new elements.</summary>
internal enum PadMode { Constant, Reflect, Edge, Wrap }

/// <summary>
/// Pad, in its two forms: attributes pads/value before opset 11, inputs pads/constant_value (and axes
/// from opset 18) since. Negative pads crop. Float constant padding goes through <see cref="F.Pad"/>
/// (trainable); reflect, edge and wrap, and integer values, use an index-map kernel (inference only).
/// </summary>
internal static class PadOps
{
    [OnnxOp("Pad")]
    public static OnnxKernel Pad(OnnxNodeContext node)
    {
        string modeName = node.String("mode", "constant");
        var mode = modeName switch
        {
            "constant" => PadMode.Constant,
            "reflect" => PadMode.Reflect,
            "edge" => PadMode.Edge,
            "wrap" when node.Opset >= 19 => PadMode.Wrap,
            _ => throw node.Unsupported($"mode '{modeName}' is not supported"),
        };
        if (node.Opset < 11)
        {
            long[] pads = node.Ints("pads") ?? throw node.Invalid("attribute 'pads' is required");
            double value = node.Float("value", 0f);
            return inputs => [Pad(inputs[0]!, pads, mode, value)];
        }
        if (!node.HasInput(1)) throw node.Invalid("the pads input is missing");
        var axesOf = OnnxAxes.Reader(node, inputSince: 18, input: 3);
        return inputs =>
        {
            var x = inputs[0]!;
            var pads = inputs[1]!.IntegerData("Pad pads");
            double value = inputs.Length > 2 && inputs[2] is { Length: > 0 } c ? c.IsFloat ? c.Floats!.Span[0] : c.Integers![0] : 0;
            if (axesOf(inputs) is { } axes) pads = PadsForAllAxes(pads, OnnxAxes.NormalizeAll(axes, x.Dims.Length, "Pad axis"), x.Dims.Length);
            return [Pad(x, pads, mode, value)];
        };
    }

    /// <summary>Opset 18's pads for some axes widened to ONNX's full [begin per axis…, end per axis…] layout.</summary>
    private static long[] PadsForAllAxes(long[] pads, int[] axes, int rank)
    {
        if (pads.Length != 2 * axes.Length) throw new ArgumentException($"{pads.Length} pads for {axes.Length} axes");
        var full = new long[2 * rank];
        for (int i = 0; i < axes.Length; i++)
        {
            full[axes[i]] = pads[i];
            full[rank + axes[i]] = pads[axes.Length + i];
        }
        return full;
    }

    /// <summary>Pads (or crops, where negative) <paramref name="x"/> by ONNX's <paramref name="pads"/>: [begin per axis…, end per axis…].</summary>
    public static OnnxValue Pad(OnnxValue x, long[] pads, PadMode mode, double value)
    {
        int rank = x.Dims.Length;
        if (pads.Length != 2 * rank) throw new ArgumentException($"{pads.Length} pads [{string.Join(", ", pads)}] for input {TensorShape.Format(x.Dims)}: expected {2 * rank}");
        var outDims = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            long size = x.Dims[d] + pads[d] + pads[rank + d];
            if (size < 0 || size > int.MaxValue) throw new ArgumentException($"pads [{string.Join(", ", pads)}] give axis {d} of input {TensorShape.Format(x.Dims)} size {size}");
            if (mode != PadMode.Constant && x.Dims[d] == 0 && size > 0) throw new ArgumentException($"cannot {mode.ToString().ToLowerInvariant()}-pad the empty axis {d} of input {TensorShape.Format(x.Dims)}");
            outDims[d] = (int)size;
        }
        if (mode == PadMode.Constant && x.Floats is { } t && outDims.All(d => d > 0))
        {
            // F.Pad takes (before, after) pairs from the last dimension backwards.
            var pairs = new int[2 * rank];
            for (int d = 0; d < rank; d++) (pairs[2 * (rank - 1 - d)], pairs[2 * (rank - 1 - d) + 1]) = ((int)pads[d], (int)pads[rank + d]);
            return OnnxValue.Float(F.Pad(t, pairs, (float)value));
        }
        if (rank == 0) return ReshapeOps.WithDims(x, []);
        var maps = new int[rank][];
        for (int d = 0; d < rank; d++) maps[d] = SourceIndices(x.Dims[d], outDims[d], (int)pads[d], mode);
        return ElementMover.Apply(x, outDims, outDims[..^1].Aggregate(1, (p, d) => p * d), new Mover(x.Dims, maps, value));
    }

    /// <summary>For each output position along an axis, the input position it copies; -1 where it holds the constant.</summary>
    private static int[] SourceIndices(int size, int outSize, int before, PadMode mode)
    {
        var map = new int[outSize];
        int period = 2 * (size - 1);
        for (int o = 0; o < outSize; o++)
        {
            int i = o - before;
            map[o] = i >= 0 && i < size ? i : mode switch
            {
                PadMode.Edge => Math.Clamp(i, 0, size - 1),
                // Mirror without repeating the border, as numpy.pad's reflect; it keeps bouncing when pads exceed the size.
                PadMode.Reflect when size == 1 => 0,
                PadMode.Reflect => Reflect(((i % period) + period) % period, size),
                PadMode.Wrap => ((i % size) + size) % size,
                _ => -1,
            };
        }
        return map;

        static int Reflect(int i, int size) => i < size ? i : 2 * (size - 1) - i;
    }

    /// <summary>One unit is an output row (all axes but the last), copied element by element through the axis maps.</summary>
    private readonly struct Mover(int[] inDims, int[][] maps, double value) : IElementMover
    {
        public void Move<T>(ReadOnlySpan<T> source, Span<T> destination, int start, int end) where T : unmanaged, INumber<T>
        {
            int rank = inDims.Length;
            var last = maps[rank - 1];
            var constant = T.CreateTruncating(value);
            for (int row = start; row < end; row++)
            {
                var to = destination.Slice(row * last.Length, last.Length);
                // The input row this output row reads, or -1 when an outer axis lies in the constant border.
                int s = 0;
                for (int d = rank - 2, rest = row, stride = inDims[rank - 1]; d >= 0 && s >= 0; d--)
                {
                    int i = maps[d][rest % maps[d].Length];
                    rest /= maps[d].Length;
                    s = i < 0 ? -1 : s + i * stride;
                    stride *= inDims[d];
                }
                if (s < 0) to.Fill(constant);
                else for (int j = 0; j < to.Length; j++) to[j] = last[j] < 0 ? constant : source[s + last[j]];
            }
        }
    }
}
