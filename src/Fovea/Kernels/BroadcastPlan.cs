using System.Numerics.Tensors;

namespace Fovea.Kernels;

/// <summary>
/// How two shapes broadcast (NumPy/PyTorch rules), reduced to runs that TensorPrimitives can do in one
/// call. Adjacent output dimensions in which each operand is either present or broadcast in the same
/// way are merged, so the output becomes an outer loop over runs of <see cref="Inner"/> elements in which
/// each operand is either a contiguous run or one repeated value. Same shapes give one run; a
/// per-channel [1, C, 1, 1] operand against [N, C, H, W] gives N·C runs of H·W with a repeated value.
/// </summary>
public sealed class BroadcastPlan
{
    private readonly int[] _outer;             // sizes of the outer (merged) dimensions
    private readonly int[] _aStride, _bStride; // their strides in a and b; 0 where that operand is broadcast

    /// <summary>The broadcast shape of the result.</summary>
    public int[] OutputShape { get; }

    public int OutputLength { get; }

    /// <summary>Length of each innermost run.</summary>
    public int Inner { get; }

    /// <summary>Whether a (b) varies along a run; false means one value of it is repeated along the run.</summary>
    public bool AVaries { get; }
    public bool BVaries { get; }

    private BroadcastPlan(int[] output, int[] outer, int[] aStride, int[] bStride, int inner, bool aVaries, bool bVaries)
    {
        OutputShape = output;
        OutputLength = output.Aggregate(1, (p, d) => p * d);
        _outer = outer;
        _aStride = aStride;
        _bStride = bStride;
        Inner = inner;
        AVaries = aVaries;
        BVaries = bVaries;
    }

    /// <summary>The plan for a ⊙ b, or null when the shapes do not broadcast.</summary>
    public static BroadcastPlan? TryCreate(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var output = new int[rank];
        // Merged groups of output dims: size and which operand is broadcast (stride 0) in it.
        var sizes = new List<int>(rank);
        var aBroadcast = new List<bool>(rank);
        var bBroadcast = new List<bool>(rank);
        for (int d = 0; d < rank; d++)
        {
            int ad = DimOrOne(a, d, rank), bd = DimOrOne(b, d, rank);
            if (ad != bd && ad != 1 && bd != 1) return null;
            output[d] = ad == 1 ? bd : ad;
            if (output[d] == 1) continue;  // contributes no index, so it neither splits nor extends a group
            bool aB = ad == 1, bB = bd == 1;
            if (sizes.Count > 0 && aBroadcast[^1] == aB && bBroadcast[^1] == bB) sizes[^1] *= output[d];
            else
            {
                sizes.Add(output[d]);
                aBroadcast.Add(aB);
                bBroadcast.Add(bB);
            }
        }
        if (sizes.Count == 0) return new BroadcastPlan(output, [], [], [], 1, true, true);

        int groups = sizes.Count;
        var aStride = new int[groups];
        var bStride = new int[groups];
        for (int i = groups - 1, aStep = 1, bStep = 1; i >= 0; i--)
        {
            aStride[i] = aBroadcast[i] ? 0 : aStep;
            bStride[i] = bBroadcast[i] ? 0 : bStep;
            if (!aBroadcast[i]) aStep *= sizes[i];
            if (!bBroadcast[i]) bStep *= sizes[i];
        }
        return new BroadcastPlan(output, sizes.Take(groups - 1).ToArray(), aStride[..^1], bStride[..^1], sizes[^1], !aBroadcast[^1], !bBroadcast[^1]);
    }

    private static int DimOrOne(ReadOnlySpan<int> shape, int d, int rank)
    {
        int i = d - (rank - shape.Length);
        return i < 0 ? 1 : shape[i];
    }

    /// <summary>y = a ⊙ b with the operation <typeparamref name="TOp"/>.</summary>
    public void Apply<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) where TOp : IBinaryOp => ApplyRange<TOp>(a, b, y, 0, OutputLength);

    /// <summary>
    /// y = a ⊙ b for the output elements [<paramref name="start"/>, <paramref name="end"/>) only (a range may begin
    /// and end inside runs), so that threads can share one operation; elementwise, so the split changes no bit.
    /// </summary>
    public void ApplyRange<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, int start, int end) where TOp : IBinaryOp
    {
        for (int o = start; o < end;)
        {
            int run = o / Inner, within = o - run * Inner, length = Math.Min(Inner - within, end - o);
            var (ao, bo) = Offsets(run);
            var yr = y.Slice(o, length);
            if (AVaries && BVaries) TOp.Apply(a.Slice(ao + within, length), b.Slice(bo + within, length), yr);
            else if (AVaries) TOp.Apply(a.Slice(ao + within, length), b[bo], yr);
            else TOp.Apply(a[ao], b.Slice(bo + within, length), yr);
            o += length;
        }
    }

    /// <summary>
    /// grad += scale · (g summed over the dimensions in which <paramref name="operand"/> is broadcast):
    /// the backward of broadcasting. <paramref name="g"/> has the output's shape, <paramref name="grad"/> the operand's.
    /// </summary>
    public void Reduce(ReadOnlySpan<float> g, Span<float> grad, Operand operand, float scale = 1f)
    {
        bool varies = operand == Operand.A ? AVaries : BVaries;
        for (int r = 0; r < Runs; r++)
        {
            var (ao, bo) = Offsets(r);
            int o = r * Inner;
            var gr = g.Slice(o, Inner);
            int at = operand == Operand.A ? ao : bo;
            if (!varies) grad[at] += scale * TensorPrimitives.Sum(gr);
            else if (scale == 1f) TensorPrimitives.Add(grad.Slice(at, Inner), gr, grad.Slice(at, Inner));
            else TensorPrimitives.MultiplyAdd(gr, scale, grad.Slice(at, Inner), grad.Slice(at, Inner));
        }
    }

    /// <summary>
    /// grad += (g · other) summed over the dimensions in which <paramref name="operand"/> is broadcast, where
    /// <paramref name="other"/> is the other operand: the backward of a product, without an output-sized temporary.
    /// </summary>
    public void ReduceProduct(ReadOnlySpan<float> g, ReadOnlySpan<float> other, Span<float> grad, Operand operand)
    {
        bool varies = operand == Operand.A ? AVaries : BVaries, otherVaries = operand == Operand.A ? BVaries : AVaries;
        for (int r = 0; r < Runs; r++)
        {
            var (ao, bo) = Offsets(r);
            int o = r * Inner;
            var gr = g.Slice(o, Inner);
            int at = operand == Operand.A ? ao : bo, from = operand == Operand.A ? bo : ao;
            if (!varies) grad[at] += TensorPrimitives.Dot(gr, other.Slice(from, Inner));
            else if (otherVaries) TensorPrimitives.MultiplyAdd(gr, other.Slice(from, Inner), grad.Slice(at, Inner), grad.Slice(at, Inner));
            else TensorPrimitives.MultiplyAdd(gr, other[from], grad.Slice(at, Inner), grad.Slice(at, Inner));
        }
    }

    public enum Operand { A, B }

    private int Runs => OutputLength == 0 ? 0 : OutputLength / Inner;

    /// <summary>Where run <paramref name="run"/> starts in a and in b (it starts at run·Inner in the output).</summary>
    private (int A, int B) Offsets(int run)
    {
        int a = 0, b = 0;
        for (int d = _outer.Length - 1; d >= 0; d--)
        {
            int i = run % _outer[d];
            run /= _outer[d];
            a += i * _aStride[d];
            b += i * _bStride[d];
        }
        return (a, b);
    }
}
