using System.Numerics;

namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// Transpose (permute), as PixelShuffle and channel-last graphs use it. Inference only: Fovea has no
/// differentiable permute to hand it to.
/// </summary>
internal static class TransposeOps
{
    [OnnxOp("Transpose")]
    public static OnnxKernel Transpose(OnnxNodeContext node)
    {
        long[]? perm = node.Ints("perm");
        return inputs =>
        {
            var x = inputs[0]!;
            int rank = x.Dims.Length;
            // Without perm the dimensions are reversed.
            var p = perm is null ? Enumerable.Range(0, rank).Reverse().ToArray() : perm.Select(a => (int)Math.Clamp(a, -1, rank)).ToArray();
            if (p.Length != rank || p.Order().Where((a, i) => a != i).Any())
                throw new ArgumentException($"perm [{string.Join(", ", perm ?? [])}] is not a permutation of the {rank} axes of {TensorShape.Format(x.Dims)}");
            return [Permute(x, p)];
        };
    }

    /// <summary>Output axis i is input axis <paramref name="perm"/>[i].</summary>
    public static OnnxValue Permute(OnnxValue x, int[] perm)
    {
        var outDims = perm.Select(a => x.Dims[a]).ToArray();
        var (dims, strides) = Simplify(x.Dims, perm);
        if (dims.Length <= 1) return ReshapeOps.WithDims(x, outDims); // the order of the elements does not change
        int rows = dims[..^1].Aggregate(1, (p, d) => p * d);
        return ElementMover.Apply(x, outDims, rows, new Mover(dims, strides));
    }

    /// <summary>
    /// The same permutation over fewer axes: size-1 axes dropped, and input axes that stay neighbours in
    /// the output merged into one. Returns the output dimensions and, per output axis, its input stride.
    /// </summary>
    private static (int[] Dims, int[] Strides) Simplify(int[] inDims, int[] perm)
    {
        var kept = perm.Where(a => inDims[a] != 1).ToList();
        // Groups of input axes that stay consecutive, in output order.
        var groups = new List<(int First, int Last)>();
        foreach (int a in kept)
        {
            // Merge with the previous group when only size-1 axes (placed anywhere) lie between them in the input.
            if (groups.Count > 0 && groups[^1].Last < a && inDims[(groups[^1].Last + 1)..a].All(d => d == 1)) groups[^1] = (groups[^1].First, a);
            else groups.Add((a, a));
        }
        // Input stride of each group: the product of the sizes of the input axes after it.
        var dims = new int[groups.Count];
        var strides = new int[groups.Count];
        for (int g = 0; g < groups.Count; g++)
        {
            dims[g] = inDims[groups[g].First..(groups[g].Last + 1)].Aggregate(1, (p, d) => p * d);
            strides[g] = inDims[(groups[g].Last + 1)..].Aggregate(1, (p, d) => p * d);
        }
        return (dims, strides);
    }

    /// <summary>One unit is an output row (all output axes but the last); reads walk the input by stride.</summary>
    private readonly struct Mover(int[] dims, int[] strides) : IElementMover
    {
        public void Move<T>(ReadOnlySpan<T> source, Span<T> destination, int start, int end) where T : unmanaged, INumber<T>
        {
            int outer = dims.Length - 1, run = dims[outer], step = strides[outer];
            Span<int> index = stackalloc int[outer];
            int s = 0;
            for (int d = outer - 1, rest = start; d >= 0; d--)
            {
                index[d] = rest % dims[d];
                rest /= dims[d];
                s += index[d] * strides[d];
            }
            for (int row = start; row < end; row++)
            {
                var to = destination.Slice(row * run, run);
                if (step == 1) source.Slice(s, run).CopyTo(to);
                else for (int j = 0, from = s; j < run; j++, from += step) to[j] = source[from];
                // Odometer over the outer output axes.
                for (int d = outer - 1; d >= 0; d--)
                {
                    s += strides[d];
                    if (++index[d] < dims[d]) break;
                    s -= dims[d] * strides[d];
                    index[d] = 0;
                }
            }
        }
    }
}
