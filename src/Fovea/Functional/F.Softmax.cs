using System.Numerics.Tensors;

namespace Fovea;

public static partial class F
{
    /// <summary>exp(x) / Σ exp(x) along <paramref name="dim"/> (any axis; negative counts from the end).</summary>
    public static Tensor Softmax(Tensor x, int dim = -1) => SoftmaxAlong(x, dim, log: false);

    /// <summary>x − log Σ exp(x) along <paramref name="dim"/>: the log of <see cref="Softmax"/>, without its underflow.</summary>
    public static Tensor LogSoftmax(Tensor x, int dim = -1) => SoftmaxAlong(x, dim, log: true);

    /// <summary>
    /// The input seen as [outer, dim, inner]. Softmax runs along the middle axis; a work item is one outer
    /// index and a tile of at most <see cref="SoftmaxTile"/> adjacent inner columns, so reductions along
    /// a strided axis become element-wise operations over contiguous tiles (vectorised), and each
    /// column's reduction runs in one fixed order whatever the thread count.
    /// </summary>
    private readonly record struct SoftmaxGeometry(int Outer, int Dim, int Inner)
    {
        public int TilesPerOuter => (Inner + SoftmaxTile - 1) / SoftmaxTile;
        public int Items => Outer * TilesPerOuter;

        public (int Offset, int Width) Item(int index)
        {
            int o = index / TilesPerOuter, t = index % TilesPerOuter;
            return (o * Dim * Inner + t * SoftmaxTile, Math.Min(SoftmaxTile, Inner - t * SoftmaxTile));
        }

        /// <summary>Keeps a chunk of work items at least <see cref="ElementwiseGrain"/> elements long.</summary>
        public int MinItemsPerChunk => Math.Max(1, ElementwiseGrain / Math.Max(1, Dim * Math.Min(Inner, SoftmaxTile)));
    }

    /// <summary>Columns per softmax work item; small enough for stack scratch, wide enough to vectorise.</summary>
    private const int SoftmaxTile = 256;

    private static Tensor SoftmaxAlong(Tensor x, int dim, bool log)
    {
        string op = log ? "LogSoftmax" : "Softmax";
        if (x.Rank == 0 || dim < -x.Rank || dim >= x.Rank)
            throw new ArgumentException($"{op}: dim {dim} is out of range for input {x.Shape}");
        int axis = x.Shape.NormalizeAxis(dim);
        var geo = new SoftmaxGeometry(x.Shape.Product(0, axis), x.Shape[axis], x.Shape.Product(axis + 1, x.Rank));
        var y = Tensor.Empty(x.Shape);
        float[] xs = x.Data, ys = y.Data;
        if (geo.Dim > 0)
        {
            Parallelism.For(geo.Items, (first, end) =>
            {
                for (int item = first; item < end; item++)
                {
                    var (offset, width) = geo.Item(item);
                    if (geo.Inner == 1) SoftmaxRow(xs.AsSpan(offset, geo.Dim), ys.AsSpan(offset, geo.Dim), log);
                    else SoftmaxColumns(xs, ys, offset, width, geo.Dim, geo.Inner, log);
                }
            }, geo.MinItemsPerChunk);
        }
        return Autograd.Record(y, op, [x], dy =>
        {
            float[] g = dy.Data, gx = GradData(x);
            Parallelism.For(geo.Items, (first, end) =>
            {
                for (int item = first; item < end; item++)
                {
                    var (offset, width) = geo.Item(item);
                    if (geo.Inner == 1) SoftmaxRowBackward(ys.AsSpan(offset, geo.Dim), g.AsSpan(offset, geo.Dim), gx.AsSpan(offset, geo.Dim), log);
                    else SoftmaxColumnsBackward(ys, g, gx, offset, width, geo.Dim, geo.Inner, log);
                }
            }, geo.MinItemsPerChunk);
        });
    }

    // Subtracting the maximum first keeps exp from overflowing: the largest term becomes e⁰ = 1.
    private static void SoftmaxRow(ReadOnlySpan<float> x, Span<float> y, bool log)
    {
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        TensorPrimitives.Exp(y, y);
        float sum = TensorPrimitives.Sum(y);
        if (log)
        {
            // (x − max) − log Σ rather than x − (max + log Σ): x − max is exact near the maximum.
            TensorPrimitives.Subtract(x, max, y);
            TensorPrimitives.Subtract(y, MathF.Log(sum), y);
        }
        else TensorPrimitives.Divide(y, sum, y);
    }

    private static void SoftmaxColumns(float[] x, float[] y, int offset, int width, int dim, int stride, bool log)
    {
        Span<float> max = stackalloc float[width];
        Span<float> sum = stackalloc float[width];
        x.AsSpan(offset, width).CopyTo(max);
        for (int d = 1; d < dim; d++) TensorPrimitives.Max(max, x.AsSpan(offset + d * stride, width), max);
        sum.Clear();
        for (int d = 0; d < dim; d++)
        {
            var yd = y.AsSpan(offset + d * stride, width);
            TensorPrimitives.Subtract(x.AsSpan(offset + d * stride, width), max, yd);
            TensorPrimitives.Exp(yd, yd);
            TensorPrimitives.Add(sum, yd, sum);
        }
        if (log)
        {
            TensorPrimitives.Log(sum, sum);
            for (int d = 0; d < dim; d++)
            {
                var yd = y.AsSpan(offset + d * stride, width);
                TensorPrimitives.Subtract(x.AsSpan(offset + d * stride, width), max, yd);
                TensorPrimitives.Subtract(yd, sum, yd);
            }
        }
        else
        {
            for (int d = 0; d < dim; d++) TensorPrimitives.Divide(y.AsSpan(offset + d * stride, width), sum, y.AsSpan(offset + d * stride, width));
        }
    }

    // Softmax: dx = y ⊙ (dy − Σ dy⊙y).  LogSoftmax: dx = dy − exp(y) · Σ dy.
    private static void SoftmaxRowBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> gx, bool log)
    {
        if (!log)
        {
            float dot = TensorPrimitives.Dot(dy, y);
            TensorPrimitives.MultiplyAdd(y, dy, gx, gx);
            TensorPrimitives.MultiplyAdd(y, -dot, gx, gx);
            return;
        }
        float total = TensorPrimitives.Sum(dy);
        TensorPrimitives.Add(gx, dy, gx);
        Span<float> probabilities = stackalloc float[Math.Min(SoftmaxTile, y.Length)];
        for (int start = 0; start < y.Length; start += probabilities.Length)
        {
            int n = Math.Min(probabilities.Length, y.Length - start);
            TensorPrimitives.Exp(y.Slice(start, n), probabilities[..n]);
            TensorPrimitives.MultiplyAdd(probabilities[..n], -total, gx.Slice(start, n), gx.Slice(start, n));
        }
    }

    private static void SoftmaxColumnsBackward(float[] y, float[] dy, float[] gx, int offset, int width, int dim, int stride, bool log)
    {
        Span<float> negTotal = stackalloc float[width];
        Span<float> probabilities = stackalloc float[width];
        negTotal.Clear();
        for (int d = 0; d < dim; d++)
        {
            var dyd = dy.AsSpan(offset + d * stride, width);
            if (log) TensorPrimitives.Add(negTotal, dyd, negTotal);
            else TensorPrimitives.MultiplyAdd(dyd, y.AsSpan(offset + d * stride, width), negTotal, negTotal);
        }
        TensorPrimitives.Negate(negTotal, negTotal);
        for (int d = 0; d < dim; d++)
        {
            var yd = y.AsSpan(offset + d * stride, width);
            var dyd = dy.AsSpan(offset + d * stride, width);
            var gxd = gx.AsSpan(offset + d * stride, width);
            if (log)
            {
                TensorPrimitives.Add(gxd, dyd, gxd);
                TensorPrimitives.Exp(yd, probabilities);
                TensorPrimitives.MultiplyAdd(probabilities, negTotal, gxd, gxd);
            }
            else
            {
                TensorPrimitives.MultiplyAdd(yd, dyd, gxd, gxd);
                TensorPrimitives.MultiplyAdd(yd, negTotal, gxd, gxd);
            }
        }
    }
}
