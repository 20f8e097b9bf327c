using System.Numerics.Tensors;

namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// The N-d window that Conv and ConvTranspose share. Every position q of the <em>grid</em> (a Conv's output,
/// a ConvTranspose's input) meets, through kernel tap k, the <em>field</em> (a Conv's input, a ConvTranspose's
/// output) at q·stride + k·dilation − padBegin along each spatial axis; positions outside the field are padding.
/// <see cref="Unfold"/> (im2col) gathers the field into a columns matrix [channels·taps, grid pixels] and
/// <see cref="FoldAdd"/> (col2im) is its adjoint, scattering such a matrix back — so Conv is W·Unfold(x) and
/// ConvTranspose is FoldAdd(Wᵀ·x). Any rank, any padding (negative padding crops, as ConvTranspose's output_shape may ask).
/// </summary>
internal sealed class ConvWindow
{
    private readonly int[] _field, _grid, _kernel, _strides, _dilations, _padBegin;
    private readonly int[] _fieldStrides, _gridStrides;

    public ConvWindow(ReadOnlySpan<int> field, ReadOnlySpan<int> grid, SpatialAttributes.Axis[] axes)
    {
        _field = field.ToArray();
        _grid = grid.ToArray();
        _kernel = axes.Select(a => a.Kernel).ToArray();
        _strides = axes.Select(a => a.Stride).ToArray();
        _dilations = axes.Select(a => a.Dilation).ToArray();
        _padBegin = axes.Select(a => a.PadBegin).ToArray();
        _fieldStrides = RowMajorStrides(_field);
        _gridStrides = RowMajorStrides(_grid);
        FieldPixels = _field.Aggregate(1, (p, d) => p * d);
        GridPixels = _grid.Aggregate(1, (p, d) => p * d);
        Taps = _kernel.Aggregate(1, (p, d) => p * d);
        IsIdentity = _field.AsSpan().SequenceEqual(_grid) && Taps == 1 && _strides.All(s => s == 1) && _padBegin.All(p => p == 0);
    }

    public int Rank => _field.Length;

    public int FieldPixels { get; }

    public int GridPixels { get; }

    /// <summary>Kernel positions: the product of the kernel's sizes.</summary>
    public int Taps { get; }

    /// <summary>A 1×…×1 window with stride 1 and no padding: a channel of the field already is its row of columns.</summary>
    public bool IsIdentity { get; }

    /// <summary>
    /// Columns rows [channelStart·taps, channelEnd·taps) of <paramref name="columns"/> ([channels·taps, grid pixels])
    /// from <paramref name="field"/> ([channels, field pixels]); padding reads as zero.
    /// </summary>
    public void Unfold(ReadOnlySpan<float> field, Span<float> columns, int channelStart, int channelEnd)
    {
        Span<int> tap = stackalloc int[Rank];
        for (int c = channelStart; c < channelEnd; c++)
        {
            var channel = field.Slice(c * FieldPixels, FieldPixels);
            for (int t = 0; t < Taps; t++)
            {
                TapIndex(t, tap);
                Walk(channel, columns.Slice((c * Taps + t) * GridPixels, GridPixels), tap, 0, 0, 0, fold: false);
            }
        }
    }

    /// <summary>
    /// The adjoint of <see cref="Unfold"/>: adds columns rows [channelStart·taps, channelEnd·taps) into channels
    /// [channelStart, channelEnd) of <paramref name="field"/>; what falls on padding is dropped. Each channel is
    /// written by its own rows only, so disjoint channel ranges may run on different threads.
    /// </summary>
    public void FoldAdd(ReadOnlySpan<float> columns, Span<float> field, int channelStart, int channelEnd)
    {
        Span<int> tap = stackalloc int[Rank];
        for (int c = channelStart; c < channelEnd; c++)
        {
            var channel = field.Slice(c * FieldPixels, FieldPixels);
            for (int t = 0; t < Taps; t++)
            {
                TapIndex(t, tap);
                Walk(columns.Slice((c * Taps + t) * GridPixels, GridPixels), channel, tap, 0, 0, 0, fold: true);
            }
        }
    }

    /// <summary>
    /// One tap's row against one field channel, axis by axis: only the grid range whose field positions are
    /// inside is visited (found by division, not tested per element); when unfolding, the rest of the row is zeroed.
    /// Unfolding reads the channel and writes the row; folding reads the row and adds into the channel.
    /// </summary>
    private void Walk(ReadOnlySpan<float> source, Span<float> target, ReadOnlySpan<int> tap, int axis, int fieldOffset, int rowOffset, bool fold)
    {
        int stride = _strides[axis], start = tap[axis] * _dilations[axis] - _padBegin[axis];
        int lo = Math.Max(0, CeilDiv(-start, stride));
        int hi = Math.Max(lo, Math.Min(_grid[axis], CeilDiv(_field[axis] - start, stride)));
        int block = _gridStrides[axis];
        if (!fold)
        {
            target.Slice(rowOffset, lo * block).Clear();
            target.Slice(rowOffset + hi * block, (_grid[axis] - hi) * block).Clear();
        }
        int f = fieldOffset + (lo * stride + start) * _fieldStrides[axis];
        if (axis < Rank - 1)
        {
            for (int q = lo; q < hi; q++, f += stride * _fieldStrides[axis])
                Walk(source, target, tap, axis + 1, f, rowOffset + q * block, fold);
            return;
        }
        int count = hi - lo, r = rowOffset + lo;
        if (fold && stride == 1)
        {
            var field = target.Slice(f, count);
            TensorPrimitives.Add(field, source.Slice(r, count), field);
        }
        else if (fold)
        {
            for (int q = 0; q < count; q++, f += stride) target[f] += source[r + q];
        }
        else if (stride == 1)
        {
            source.Slice(f, count).CopyTo(target.Slice(r, count));
        }
        else
        {
            for (int q = 0; q < count; q++, f += stride) target[r + q] = source[f];
        }
    }

    /// <summary>The kernel position of tap <paramref name="t"/> (row-major over the kernel's axes).</summary>
    private void TapIndex(int t, Span<int> tap)
    {
        for (int a = Rank - 1; a >= 0; a--)
        {
            tap[a] = t % _kernel[a];
            t /= _kernel[a];
        }
    }

    /// <summary>⌈a / b⌉ for b &gt; 0 and a of either sign.</summary>
    private static int CeilDiv(int a, int b) => a >= 0 ? (a + b - 1) / b : -(-a / b);

    private static int[] RowMajorStrides(int[] dims)
    {
        var strides = new int[dims.Length];
        int s = 1;
        for (int a = dims.Length - 1; a >= 0; a--)
        {
            strides[a] = s;
            s *= dims[a];
        }
        return strides;
    }
}
