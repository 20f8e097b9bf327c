namespace Fovea.Onnx.Import.Ops;

/// <summary>
/// The windows of an N-d pooling over [N, C, D1, …, Dr], tabulated once per call: for every spatial axis and
/// output position, where the window's first in-bounds tap lies, how many of its taps fall inside the input
/// and how many fall inside input + padding (ONNX's count_include_pad divisor, which never counts cells past
/// the end padding that ceil_mode adds). Windows are products of their per-axis taps, so the tables stay
/// small whatever the rank.
/// </summary>
internal sealed class PoolWindows
{
    private PoolWindows(int planes, int[] inDims, int[] outDims, int[] tapStep, int[][] firstOffset, int[][] taps, int[][] padded, int windowSize)
    {
        Planes = planes;
        InDims = inDims;
        OutDims = outDims;
        TapStep = tapStep;
        FirstOffset = firstOffset;
        Taps = taps;
        Padded = padded;
        WindowSize = windowSize;
        InPlane = inDims.Aggregate(1, (p, d) => p * d);
        OutPlane = outDims.Aggregate(1, (p, d) => p * d);
    }

    /// <summary>N·C: the independent planes.</summary>
    public int Planes { get; }

    public int[] InDims { get; }

    public int[] OutDims { get; }

    public int InPlane { get; }

    public int OutPlane { get; }

    /// <summary>Taps per full window (the product of kernel sizes), a measure of work per output.</summary>
    public int WindowSize { get; }

    public int Rank => InDims.Length;

    /// <summary>Per axis: the distance in the plane between two taps (dilation × the axis's row-major stride).</summary>
    public int[] TapStep { get; }

    /// <summary>[axis][output]: the row-major plane offset contributed by the first in-bounds tap.</summary>
    public int[][] FirstOffset { get; }

    /// <summary>[axis][output]: in-bounds taps (0 when the window lies wholly in padding).</summary>
    public int[][] Taps { get; }

    /// <summary>[axis][output]: taps inside input + padding.</summary>
    public int[][] Padded { get; }

    /// <summary>Tabulates the windows of <paramref name="axes"/> over an input of dimensions <paramref name="dims"/> ([N, C, D1, …]).</summary>
    public static PoolWindows Create(ReadOnlySpan<int> dims, SpatialAttributes.Axis[] axes)
    {
        int rank = axes.Length;
        var inDims = dims[2..].ToArray();
        var rowStride = new int[rank];
        for (int a = rank - 1, s = 1; a >= 0; s *= inDims[a], a--) rowStride[a] = s;
        var tapStep = new int[rank];
        var firstOffset = new int[rank][];
        var taps = new int[rank][];
        var padded = new int[rank][];
        int windowSize = 1;
        for (int a = 0; a < rank; a++)
        {
            var axis = axes[a];
            tapStep[a] = axis.Dilation * rowStride[a];
            windowSize *= axis.Kernel;
            firstOffset[a] = new int[axis.Output];
            taps[a] = new int[axis.Output];
            padded[a] = new int[axis.Output];
            for (int o = 0; o < axis.Output; o++)
            {
                int start = o * axis.Stride - axis.PadBegin;
                // Taps k with 0 ≤ start + k·d < size are in bounds; those with start + k·d < size + padEnd are counted by count_include_pad.
                int first = start >= 0 ? 0 : (-start + axis.Dilation - 1) / axis.Dilation;
                int inside = TapsBelow(start, axis.Dilation, axis.Kernel, inDims[a]) - first;
                firstOffset[a][o] = (start + first * axis.Dilation) * rowStride[a];
                taps[a][o] = Math.Max(0, inside);
                padded[a][o] = TapsBelow(start, axis.Dilation, axis.Kernel, inDims[a] + axis.PadEnd);
            }
        }
        return new PoolWindows(dims[0] * dims[1], inDims, axes.Select(x => x.Output).ToArray(), tapStep, firstOffset, taps, padded, windowSize);
    }

    /// <summary>The column-major plane index (storage_order 1) of the element at row-major plane offset <paramref name="offset"/>.</summary>
    public int ColumnMajor(int offset)
    {
        Span<int> coordinate = stackalloc int[Rank];
        for (int a = 0, stride = InPlane; a < Rank; a++)
        {
            stride /= InDims[a];
            coordinate[a] = offset / stride;
            offset %= stride;
        }
        int index = 0;
        for (int a = Rank - 1; a >= 0; a--) index = index * InDims[a] + coordinate[a];
        return index;
    }

    /// <summary>How many of the taps start + k·d (0 ≤ k &lt; kernel) lie below <paramref name="limit"/>.</summary>
    private static int TapsBelow(int start, int dilation, int kernel, int limit) =>
        start >= limit ? 0 : Math.Min(kernel, (limit - start + dilation - 1) / dilation);
}
