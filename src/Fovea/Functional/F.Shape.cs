using System.Numerics.Tensors;

namespace Fovea;

public static partial class F
{
    /// <summary>
    /// Pads (or, with negative amounts, crops) the last dimensions, in PyTorch's F.pad order: last
    /// dimension first, (before, after) per dimension — [left, right, top, bottom, …] for NCHW.
    /// New elements hold <paramref name="value"/>.
    /// </summary>
    public static Tensor Pad(Tensor x, int[] pads, float value = 0f)
    {
        string op = $"Pad({TensorShape.Format(pads)})";
        if (pads.Length % 2 != 0 || pads.Length / 2 > x.Rank)
            throw new ArgumentException($"{op}: expected (before, after) pairs for at most the {x.Rank} dimensions of input {x.Shape}");
        int rank = x.Rank;
        var inDims = x.Shape.ToArray();
        var outDims = x.Shape.ToArray();
        // The box both tensors share: where it starts in each, and its extent.
        var inStart = new int[rank];
        var outStart = new int[rank];
        var extent = x.Shape.ToArray();
        for (int i = 0; i < pads.Length / 2; i++)
        {
            int d = rank - 1 - i, before = pads[2 * i], after = pads[2 * i + 1];
            outDims[d] = inDims[d] + before + after;
            if (outDims[d] < 1)
                throw new ArgumentException($"{op}: dimension {d} of input {x.Shape} would have size {outDims[d]}");
            inStart[d] = Math.Max(0, -before);
            outStart[d] = Math.Max(0, before);
            extent[d] = Math.Max(0, Math.Min(inDims[d] - inStart[d], outDims[d] - outStart[d]));
        }
        var y = Tensor.Full(new TensorShape(outDims), value);
        CopyBox(x.Span, inDims, inStart, y.Span, outDims, outStart, extent, accumulate: false);
        return Autograd.Record(y, "Pad", [x], dy => CopyBox(dy.Span, outDims, outStart, x.GradSpan, inDims, inStart, extent, accumulate: true));
    }

    /// <summary>
    /// Copies (or adds) the box of size <paramref name="extent"/> at <paramref name="srcStart"/> in src to
    /// <paramref name="dstStart"/> in dst, one contiguous run along the last dimension at a time.
    /// </summary>
    private static void CopyBox(ReadOnlySpan<float> src, int[] srcDims, int[] srcStart, Span<float> dst, int[] dstDims, int[] dstStart, int[] extent, bool accumulate)
    {
        int rank = extent.Length;
        if (rank == 0)
        {
            dst[0] = accumulate ? dst[0] + src[0] : src[0];
            return;
        }
        int run = extent[^1];
        int runs = extent[..^1].Aggregate(1, (p, e) => p * e);
        if (run == 0) return;
        for (int r = 0; r < runs; r++)
        {
            // Decompose the run index over the box's outer dimensions into element offsets.
            int rest = r, s = srcStart[^1], t = dstStart[^1], srcStride = srcDims[^1], dstStride = dstDims[^1];
            for (int d = rank - 2; d >= 0; d--)
            {
                int i = rest % extent[d];
                rest /= extent[d];
                s += (srcStart[d] + i) * srcStride;
                t += (dstStart[d] + i) * dstStride;
                srcStride *= srcDims[d];
                dstStride *= dstDims[d];
            }
            var from = src.Slice(s, run);
            var to = dst.Slice(t, run);
            if (accumulate) TensorPrimitives.Add(to, from, to);
            else from.CopyTo(to);
        }
    }

    /// <summary>Merges dimensions <paramref name="startDim"/>…<paramref name="endDim"/> (inclusive, negative from the end) into one.</summary>
    public static Tensor Flatten(Tensor x, int startDim = 1, int endDim = -1) => Relabel(x, FlattenedShape(x.Shape, startDim, endDim), "Flatten");

    /// <summary>The shape <see cref="Flatten"/> gives <paramref name="shape"/>.</summary>
    internal static TensorShape FlattenedShape(TensorShape shape, int startDim, int endDim)
    {
        int rank = Math.Max(shape.Rank, 1);  // a scalar flattens to [1], as in PyTorch
        int start = startDim < 0 ? startDim + rank : startDim, end = endDim < 0 ? endDim + rank : endDim;
        if ((uint)start >= (uint)rank || (uint)end >= (uint)rank || start > end)
            throw new ArgumentException($"Flatten(start_dim={startDim}, end_dim={endDim}): invalid dimensions for input {shape}");
        if (shape.Rank == 0) return new TensorShape(1);
        var dims = shape.ToArray();
        int merged = shape.Product(start, end + 1);
        return new TensorShape([.. dims[..start], merged, .. dims[(end + 1)..]]);
    }

    /// <summary>Same elements in a new shape; one dimension may be -1 (inferred).</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        var dims = (int[])shape.Clone();
        int inferred = Array.IndexOf(dims, -1);
        long known = dims.Where(d => d != -1).Aggregate(1L, (p, d) => p * d);
        string Failure() => $"Reshape({TensorShape.Format(shape)}): cannot hold the {x.Length} elements of input {x.Shape}";
        if (dims.Count(d => d == -1) > 1 || dims.Any(d => d < -1)) throw new ArgumentException($"{Failure()}: at most one -1 and no other negative size");
        if (inferred >= 0)
        {
            if (known == 0 || x.Length % known != 0) throw new ArgumentException(Failure());
            dims[inferred] = (int)(x.Length / known);
        }
        else if (known != x.Length) throw new ArgumentException(Failure());
        return Relabel(x, new TensorShape(dims), "Reshape");
    }

    /// <summary>A copy of x's elements under a new shape (tensors own their storage, so no view).</summary>
    private static Tensor Relabel(Tensor x, TensorShape shape, string name)
    {
        var y = Tensor.Empty(shape);
        x.Span.CopyTo(y.Span);
        return Autograd.Record(y, name, [x], dy => PassGradient(dy, null, x, scale: 1f));
    }

    /// <summary>Joins tensors along <paramref name="axis"/>; every other dimension must match.</summary>
    public static Tensor Concat(Tensor[] xs, int axis = 1)
    {
        if (xs.Length == 0) throw new ArgumentException($"Concat(axis={axis}): needs at least one tensor");
        var first = xs[0].Shape;
        if (axis < -first.Rank || axis >= first.Rank) throw new ArgumentException($"Concat(axis={axis}): axis out of range for input {first}");
        int a = axis < 0 ? axis + first.Rank : axis;
        foreach (var x in xs)
        {
            bool fits = x.Rank == first.Rank;
            for (int d = 0; fits && d < first.Rank; d++) fits = d == a || x.Shape[d] == first[d];
            if (!fits) throw new ArgumentException($"Concat(axis={axis}): shapes {first} and {x.Shape} differ outside axis {a}");
        }
        // Each tensor is `outer` blocks of (its size along the axis)·inner contiguous elements.
        int outer = first.Product(0, a), inner = first.Product(a + 1, first.Rank);
        int[] blocks = xs.Select(x => x.Shape[a] * inner).ToArray();
        var dims = first.ToArray();
        dims[a] = xs.Sum(x => x.Shape[a]);
        var y = Tensor.Empty(dims);
        float[][] sources = xs.Select(x => x.Data).ToArray();
        float[] target = y.Data;
        int row = blocks.Sum();
        // Blocks of a few images on each thread: SqueezeNet's concats are a tenth of its inference, all copying.
        Parallelism.For(outer, (start, end) =>
        {
            for (int o = start, offset = start * row; o < end; o++)
            {
                for (int i = 0; i < sources.Length; i++)
                {
                    sources[i].AsSpan(o * blocks[i], blocks[i]).CopyTo(target.AsSpan(offset, blocks[i]));
                    offset += blocks[i];
                }
            }
        }, Math.Max(1, ElementwiseGrain / Math.Max(1, row)));
        return Autograd.Record(y, "Concat", xs, dy =>
        {
            for (int o = 0, offset = 0; o < outer; o++)
            {
                for (int i = 0; i < xs.Length; i++)
                {
                    if (xs[i].RequiresGrad)
                    {
                        var g = xs[i].GradSpan.Slice(o * blocks[i], blocks[i]);
                        TensorPrimitives.Add(g, dy.Span.Slice(offset, blocks[i]), g);
                    }
                    offset += blocks[i];
                }
            }
        });
    }
}
