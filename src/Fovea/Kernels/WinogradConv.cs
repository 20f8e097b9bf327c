using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// A 3×3, stride-1 convolution by Winograd's F(2×2, 3×3): each 2×2 block of output is computed from a 4×4
/// patch of input as Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, so the channel sums become 16 independent GEMMs
/// U[pos] (O × C) · V[pos] (C × tiles) with 16 multiplies per 4 outputs instead of 36: 2.25× fewer FLOPs than
/// the direct (implicit GEMM) convolution, which already runs near the FMA peak. The transforms run 16 tiles
/// per AVX-512 vector (hence AVX-512 only); the products use the GEMM micro-kernel with B read in place.
/// Results differ from the direct sum by rounding only (F(2×2, 3×3) has small, well-conditioned constants).
/// The output goes to the same wide layout as <see cref="ImplicitConv"/>'s, so narrowing and the fused
/// epilogue are shared.
/// </summary>
internal sealed unsafe class WinogradConv : IDisposable
{
    /// <summary>
    /// Below this many input or output channels the transforms (linear in the channels, and 4× the image in
    /// memory) cost as much as the saved multiplies (quadratic). At 32 channels Winograd lost (the stores of the
    /// transformed tiles miss L1) until its blocks ran on across images and its buffers started on cache lines: now,
    /// at batch 256 on two threads, cnn-bn's 32→32 conv on 28×28 takes 13.1 against 15.1 ms by the direct conv, its
    /// 32→64 conv on 14×14 6.8 against 7.4 ms.
    /// </summary>
    private const int MinChannels = 32;

    /// <summary>Output pixels in the batch below which transforming the weights (16 × O × C per call) does not pay.</summary>
    private const int MinPixels = 4096;

    private const int Positions = 16, TileCols = 32;

    /// <summary>
    /// About this many tiles are transformed, multiplied and transformed back at a time, so that V and M stay in L2
    /// (with 256, a 56×56 image was 1.3× slower: its transformed tiles spilled to L3).
    /// </summary>
    private const int TilesPerBlock = 64;

    /// <summary>
    /// Up to this many tiles a block where more whole tile rows fill the products' 32-column tiles better, as long as V and
    /// M (16 positions × (C + O) floats a tile) stay within 1 MB, half of L2.
    /// </summary>
    private static int MaxTilesPerBlock(int channels, int rows) => Math.Clamp(16384 / (channels + rows), TilesPerBlock, 2 * TilesPerBlock);

    private readonly int _channels, _rows, _paddedRows, _tileRows;
    private readonly int _height, _width, _padTop, _padLeft, _outHeight;
    private readonly int _tilesH, _tilesW, _blockRows, _tileStride, _planeWidth, _planeLength;
    private readonly long _inputPositionStride, _productPositionStride;
    private readonly float[] _packedWeights;

    /// <summary>Whether <paramref name="g"/> can run here with <paramref name="kernel"/>: 3×3, stride 1, no dilation, one group, AVX-512.</summary>
    public static bool Supports(ConvGeometry g, GemmKernel kernel) =>
        kernel == GemmKernel.Vector512 && Avx512F.IsSupported && ImplicitConv.Supports(g)
        && g.KernelHeight == 3 && g.KernelWidth == 3 && g.DilationHeight == 1 && g.DilationWidth == 1;

    /// <summary>
    /// Whether it is faster here than the direct implicit GEMM: enough channels and output pixels. Below 4096 pixels
    /// (batch 1 on 28×28 and smaller maps) it loses even with the transformed weights kept: cnn-bn at batch 1 took
    /// 260–280 µs with Winograd on its 14×14 (or all) convs against 230 µs without, though its 14×14 convs alone ran faster.
    /// </summary>
    public static bool Pays(ConvGeometry g) =>
        g.InChannels >= MinChannels && g.OutChannels >= MinChannels && (long)g.Batch * g.OutPixels >= MinPixels;

    /// <summary>Transforms and packs <paramref name="weight"/> [O, C, 3, 3] for images of <paramref name="g"/>.</summary>
    public WinogradConv(ConvGeometry g, ReadOnlySpan<float> weight)
    {
        _channels = g.InChannels;
        _rows = g.OutChannels;
        _tileRows = GemmMicroKernel<Vector512<float>, V512>.Rows;
        _paddedRows = (_rows + _tileRows - 1) / _tileRows * _tileRows;
        (_height, _width, _padTop, _padLeft, _outHeight) = (g.InHeight, g.InWidth, g.PadTop, g.PadLeft, g.OutHeight);
        _tilesH = (g.OutHeight + 1) / 2;
        _tilesW = (g.OutWidth + 1) / 2;
        _blockRows = BlockRows(_tilesW, MaxTilesPerBlock(_channels, _rows));
        _tileStride = (_blockRows * _tilesW + TileCols - 1) / TileCols * TileCols;
        _inputPositionStride = SetSpread((long)_channels * _tileStride);
        _productPositionStride = SetSpread((long)_paddedRows * _tileStride);
        // Every 4×4 patch lies inside the padded plane, also for an odd output size (one more zero row or column).
        _planeWidth = 2 * _tilesW + 2;
        _planeLength = (2 * _tilesH + 2) * _planeWidth;

        float[] transformed = TensorPool.Rent(Positions * _rows * _channels);
        _packedWeights = TensorPool.Rent(Positions * _paddedRows * _channels);
        try
        {
            TransformWeights(weight, transformed);
            fixed (float* u = transformed, packed = _packedWeights)
            {
                for (int pos = 0; pos < Positions; pos++)
                    GemmPacking.PackA(u + (long)pos * _rows * _channels, _channels, false, 0, _rows, 0, _channels, _tileRows, packed + (long)pos * _paddedRows * _channels);
            }
        }
        finally
        {
            TensorPool.Return(transformed);
        }
    }

    /// <summary>
    /// Tile rows per block: blocks run on across images (<see cref="RunImages"/>), so any count of whole rows will do, and
    /// the count chosen fills the products' 32-column tiles best, then comes nearest <see cref="TilesPerBlock"/> tiles.
    /// One image at a time, a 14×14 map's 49 tiles took two column tiles (64 columns); 9 rows of 7 tiles fill them.
    /// </summary>
    private static int BlockRows(int tilesW, int maxTiles)
    {
        int best = 1;
        double bestFill = 0;
        for (int rows = 1; rows == 1 || rows * tilesW <= maxTiles; rows++)
        {
            int tiles = rows * tilesW;
            double fill = (double)tiles / ((tiles + TileCols - 1) / TileCols * TileCols);
            if (fill > bestFill + 1e-9 || Math.Abs(fill - bestFill) <= 1e-9 && Math.Abs(tiles - TilesPerBlock) < Math.Abs(best * tilesW - TilesPerBlock))
                (best, bestFill) = (rows, fill);
        }
        return best;
    }

    // The patch reads of the last row run up to 32 floats past its plane.
    private int PaddedLength => _channels * _planeLength + 2 * TileCols;
    private int TransformedLength => (int)(Positions * _inputPositionStride);
    private int ProductLength => (int)(Positions * _productPositionStride);

    /// <summary>
    /// A stride between positions of 4 KiB·k + 64 bytes: the transforms touch all 16 positions at once, and at a
    /// multiple of 4 KiB apart those lines would all fall in one L1 set (12 ways) and evict each other.
    /// </summary>
    private static long SetSpread(long floats) => (floats + 1023) / 1024 * 1024 + 16;

    /// <summary>Images a block of tile rows can touch: a block starting on an image's last row runs into the next ones.</summary>
    private int SlotsFor(int images) => Math.Min(images, (_blockRows - 1) / _tilesH + 2);

    /// <summary>Floats of scratch <see cref="Run"/> needs: with a split, V and M for each thread's share of the tile rows.</summary>
    public int ScratchLength(bool split) => ScratchLengthFor(1, 0) + (SplitParts(split) - 1) * PartLength;

    /// <summary>Floats of one thread's V and M, each started on a cache line.</summary>
    private int PartLength => TransformedLength + ProductLength + 2 * CacheLines.Slack;

    /// <summary>Where V and M start in the scratch: after a padded copy and a wide output per image slot.</summary>
    private float* FirstPart(float* work, int images, int wideLength) => work + (long)SlotsFor(images) * (PaddedLength + wideLength + CacheLines.Slack);

    /// <summary>Shares of one image's tile rows: one per thread with a split, at most one per tile row.</summary>
    private int SplitParts(bool split) => split ? Parallelism.ChunkCount(_tilesH) : 1;

    /// <summary>
    /// Floats of scratch <see cref="RunImages"/> needs for <paramref name="images"/> images with wide outputs of
    /// <paramref name="wideLength"/> floats: a padded copy and a wide output per image a block can touch, V and M.
    /// </summary>
    public int ScratchLengthFor(int images, int wideLength) => SlotsFor(images) * (PaddedLength + wideLength + CacheLines.Slack) + PartLength;

    /// <summary>
    /// One image [C, H, W] → the wide output [O, outH · <paramref name="wideWidth"/>] (rows <paramref name="wideStride"/>
    /// apart, columns past the output width are scratch). With <paramref name="split"/> (batch-1 latency) each thread takes
    /// a share of the tile rows through all three steps (transform in, the 16 products, transform out), with V and M of its
    /// own: the image is padded once, every output row is written by one thread, and each sum is the same as one thread's.
    /// Sharing out only the products left the transforms serial: a 64→64 conv on 64×64 took 1294 µs on two threads, no
    /// less than on one (1298); by tile rows, 731–746 µs.
    /// </summary>
    public void Run(ReadOnlySpan<float> source, Span<float> wide, int wideStride, int wideWidth, Span<float> scratch, bool split)
    {
        if (source.Length < _channels * _height * _width || scratch.Length < ScratchLength(split) || wide.Length < _rows * wideStride)
            throw new ArgumentException("WinogradConv.Run: buffers too short.");
        int parts = SplitParts(split);
        fixed (float* src = source, work = scratch, output = wide)
        {
            if (parts == 1)
            {
                RunBlocks(src, 1, output, 0, wideStride, wideWidth, work, null);
                return;
            }
            Pad(src, work);
            nint s = (nint)src, w = (nint)work, o = (nint)output, transformed = (nint)FirstPart(work, 1, 0);
            Parallelism.For(parts, (first, end) =>
            {
                for (int part = first; part < end; part++)
                {
                    var (fromRow, toRow) = Parallelism.Chunk(_tilesH, parts, part);
                    RunBlocks((float*)s, 1, (float*)o, 0, wideStride, wideWidth, (float*)w, null, fromRow, toRow, padded: 1, (float*)transformed + (long)part * PartLength);
                }
            });
        }
    }

    /// <summary>A complete wide output of image <paramref name="image"/>, handed over before its buffer is reused.</summary>
    public delegate void ImageDone(int image, Span<float> wide);

    /// <summary>
    /// <paramref name="images"/> images [C, H, W], one after the other in <paramref name="source"/> → each image's wide output
    /// (as <see cref="Run"/>'s, <paramref name="wideLength"/> floats), handed to <paramref name="done"/> in image order as soon
    /// as it is complete. Blocks of tile rows run on from one image into the next, so that their tiles fill the products'
    /// column tiles (<see cref="BlockRows"/>). Every output is the same sum as <see cref="Run"/>'s: the same bits.
    /// </summary>
    public void RunImages(ReadOnlySpan<float> source, int images, int wideLength, int wideStride, int wideWidth, Span<float> scratch, ImageDone done)
    {
        if (source.Length < images * _channels * _height * _width || scratch.Length < ScratchLengthFor(images, wideLength) || wideLength < _rows * wideStride)
            throw new ArgumentException("WinogradConv.RunImages: buffers too short.");
        fixed (float* src = source, work = scratch)
            RunBlocks(src, images, null, wideLength, wideStride, wideWidth, work, done);
    }

    /// <summary>
    /// The images' tile rows, numbered image after image, a block at a time. Image i is padded into slot i mod slots as its
    /// first row enters a block, and its wide output (<paramref name="output"/> for a single image, else the slot's) is
    /// handed over once the block holding its last row is done: by then no block touches more than the slots.
    /// </summary>
    private void RunBlocks(float* src, int images, float* output, int wideLength, int wideStride, int wideWidth, float* work, ImageDone? done) =>
        RunBlocks(src, images, output, wideLength, wideStride, wideWidth, work, done, 0, images * _tilesH, padded: 0, FirstPart(work, images, wideLength));

    /// <summary>
    /// Tile rows [<paramref name="fromRow"/>, <paramref name="toRow"/>) of the images, with V and M in
    /// <paramref name="transformed"/>; the first <paramref name="padded"/> images are padded already.
    /// </summary>
    private void RunBlocks(float* src, int images, float* output, int wideLength, int wideStride, int wideWidth, float* work, ImageDone? done,
        int fromRow, int toRow, int padded, float* transformed)
    {
        int slots = SlotsFor(images), slotLength = PaddedLength + wideLength + CacheLines.Slack, imageLength = _channels * _height * _width;
        // The transformed tiles and the products, streamed from L2 a vector at a time, start on cache lines.
        float* v = CacheLines.AlignUp(transformed), m = CacheLines.AlignUp(v + TransformedLength);
        float* Padded(int image) => work + (long)(image % slots) * slotLength;
        float* Wide(int image) => output is not null ? output : CacheLines.AlignUp(Padded(image) + PaddedLength);
        int finished = 0;
        nint* rowStarts = stackalloc nint[_blockRows], rowTops = stackalloc nint[_blockRows];
        int* realRows = stackalloc int[_blockRows];
        for (int first = fromRow; first < toRow; first += _blockRows)
        {
            int rows = Math.Min(_blockRows, toRow - first);
            for (; padded * _tilesH < first + rows; padded++) Pad(src + (long)padded * imageLength, Padded(padded));
            int tiles = rows * _tilesW, columns = (tiles + TileCols - 1) / TileCols * TileCols;
            ClearPastTiles(v, tiles, columns);
            // Each block row's patches start 2·th rows down its image's padded planes.
            for (int r = 0; r < rows; r++)
                rowTops[r] = (nint)(Padded((first + r) / _tilesH) + 2L * ((first + r) % _tilesH) * _planeWidth);
            TransformInput(rowTops, tiles, v);
            Multiply(v, m, columns);
            // Each block row's first output row in its image's wide output, and how many of its two output rows are real.
            for (int r = 0; r < rows; r++)
            {
                int th = (first + r) % _tilesH;
                rowStarts[r] = (nint)(Wide((first + r) / _tilesH) + 2L * th * wideWidth);
                realRows[r] = Math.Min(2, _outHeight - 2 * th);
            }
            TransformOutput(m, rowStarts, realRows, tiles, wideStride, wideWidth);
            for (; finished < images && (finished + 1) * _tilesH <= first + rows; finished++)
                done?.Invoke(finished, new Span<float>(Wide(finished), wideLength));
        }
    }

    private void Pad(float* src, float* padded)
    {
        new Span<float>(padded, PaddedLength).Clear();
        for (int c = 0; c < _channels; c++)
            RowCopy.Copy(src + (long)c * _height * _width, _width, padded + (long)c * _planeLength + _padTop * _planeWidth + _padLeft, _planeWidth, _height, _width);
    }

    /// <summary>U[pos][o][c] = (G g Gᵀ)[i][j] with pos = 4i + j, G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]].</summary>
    private void TransformWeights(ReadOnlySpan<float> weight, float[] u)
    {
        Span<float> t = stackalloc float[12];
        for (int o = 0; o < _rows; o++)
        {
            for (int c = 0; c < _channels; c++)
            {
                var g = weight.Slice((o * _channels + c) * 9, 9);
                for (int col = 0; col < 3; col++)
                {
                    float g0 = g[col], g1 = g[3 + col], g2 = g[6 + col];
                    t[col] = g0;
                    t[3 + col] = 0.5f * (g0 + g1 + g2);
                    t[6 + col] = 0.5f * (g0 - g1 + g2);
                    t[9 + col] = g2;
                }
                for (int i = 0; i < 4; i++)
                {
                    float r0 = t[3 * i], r1 = t[3 * i + 1], r2 = t[3 * i + 2];
                    int at = (4 * i * _rows + o) * _channels + c, next = _rows * _channels;
                    u[at] = r0;
                    u[at + next] = 0.5f * (r0 + r1 + r2);
                    u[at + 2 * next] = 0.5f * (r0 - r1 + r2);
                    u[at + 3 * next] = r2;
                }
            }
        }
    }

    /// <summary>The columns of V past the block's <paramref name="tiles"/> up to the last column tile's end are zeroed: the products read them (and discard the result).</summary>
    private void ClearPastTiles(float* v, int tiles, int columns)
    {
        for (int pos = 0; pos < Positions; pos++)
            for (int c = 0; c < _channels; c++)
                new Span<float>(v + pos * _inputPositionStride + (long)c * _tileStride + tiles, columns - tiles).Clear();
    }

    /// <summary>
    /// V[pos][c][tile] = (Bᵀ d B)[i][j] for the 4×4 patch d of each of the block's <paramref name="tiles"/> tiles, 16
    /// consecutive tiles of the block per vector whatever tile rows and images they belong to (as in <see
    /// cref="TransformOutput"/>), all in registers (Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]).
    /// A patch row of 16 tiles is two vectors of the input row de-interleaved; each run of one tile row fills its lanes
    /// of them by masked loads from its own row (<paramref name="rowTops"/>[block row] + 2·column), which fault on no
    /// float outside their lanes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TransformInput(nint* rowTops, int tiles, float* v)
    {
        long ps = _inputPositionStride;
        var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var even = lanes * 2;
        var odd = even + Vector512<int>.One;
        int w = _planeWidth;
        var runs = stackalloc TileRun[16];
        for (int t0 = 0; t0 < tiles; t0 += 16)
        {
            int count = Math.Min(16, tiles - t0), runCount = 0;
            for (int start = 0; start < count; runCount++) runs[runCount] = RunFrom(t0, start, count, rowTops, out _, out start);
            var store = Vector512.LessThan(lanes, Vector512.Create(count)).AsSingle();
            for (int c = 0; c < _channels; c++)
            {
                long plane = (long)c * _planeLength;
                RowTransform(runs, runCount, plane, even, odd, out var a0, out var a1, out var a2, out var a3);
                RowTransform(runs, runCount, plane + w, even, odd, out var b0, out var b1, out var b2, out var b3);
                RowTransform(runs, runCount, plane + 2 * w, even, odd, out var c0, out var c1, out var c2, out var c3);
                RowTransform(runs, runCount, plane + 3 * w, even, odd, out var d0, out var d1, out var d2, out var d3);
                float* p = v + (long)c * _tileStride + t0;
                Avx512F.MaskStore(p, store, a0 - c0); p += ps;
                Avx512F.MaskStore(p, store, a1 - c1); p += ps;
                Avx512F.MaskStore(p, store, a2 - c2); p += ps;
                Avx512F.MaskStore(p, store, a3 - c3); p += ps;
                Avx512F.MaskStore(p, store, b0 + c0); p += ps;
                Avx512F.MaskStore(p, store, b1 + c1); p += ps;
                Avx512F.MaskStore(p, store, b2 + c2); p += ps;
                Avx512F.MaskStore(p, store, b3 + c3); p += ps;
                Avx512F.MaskStore(p, store, c0 - b0); p += ps;
                Avx512F.MaskStore(p, store, c1 - b1); p += ps;
                Avx512F.MaskStore(p, store, c2 - b2); p += ps;
                Avx512F.MaskStore(p, store, c3 - b3); p += ps;
                Avx512F.MaskStore(p, store, b0 - d0); p += ps;
                Avx512F.MaskStore(p, store, b1 - d1); p += ps;
                Avx512F.MaskStore(p, store, b2 - d2); p += ps;
                Avx512F.MaskStore(p, store, b3 - d3);
            }
        }
    }

    /// <summary>
    /// The run of one tile row that starts at lane <paramref name="start"/> of the vector of the block's tiles from
    /// <paramref name="t0"/> (<paramref name="count"/> lanes), up to lane <paramref name="end"/>, in block row
    /// <paramref name="row"/>. Lane l's floats 2l, 2l + 1… of the two vectors (32 floats, a pair a tile) lie in that row
    /// from 2·column on, so the run starts 2·(column − start) floats past <paramref name="rowBases"/>[row], and its
    /// floats are [2·start, 2·end) of the two.
    /// </summary>
    private TileRun RunFrom(int t0, int start, int count, nint* rowBases, out int row, out int end)
    {
        row = (t0 + start) / _tilesW;
        int column = (t0 + start) % _tilesW;
        end = Math.Min(count, start + _tilesW - column);
        var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var upper = lanes + Vector512.Create(16);
        var from = Vector512.Create(2 * start);
        var to = Vector512.Create(2 * end);
        return new TileRun((float*)rowBases[row] + 2 * (column - start),
            (Vector512.GreaterThanOrEqual(lanes, from) & Vector512.LessThan(lanes, to)).AsSingle(),
            (Vector512.GreaterThanOrEqual(upper, from) & Vector512.LessThan(upper, to)).AsSingle());
    }

    /// <summary>One run of a tile row within a vector of 16 tiles: where its lanes read (or are written), and which floats of the two vectors are its.</summary>
    private readonly struct TileRun(float* top, Vector512<float> first, Vector512<float> last, int outputRow = 0)
    {
        public readonly float* Top = top;
        public readonly Vector512<float> First = first, Last = last;

        /// <summary>For the output transform, which of the tile's two output rows <see cref="Top"/> is.</summary>
        public readonly int OutputRow = outputRow;

        /// <summary>The run in output row <paramref name="row"/> of the tile row, <paramref name="rowLength"/> floats further on.</summary>
        public TileRun ForOutputRow(int row, int rowLength) => new(Top + (long)row * rowLength, First, Last, row);
    }

    /// <summary>One patch row d of 16 tiles (columns 2·tile + 0…3, gathered run by run and de-interleaved) times B.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowTransform(TileRun* runs, int runCount, long offset, Vector512<int> even, Vector512<int> odd,
        out Vector512<float> t0, out Vector512<float> t1, out Vector512<float> t2, out Vector512<float> t3)
    {
        Vector512<float> a = default, b = default, a2 = default, b2 = default;
        for (int k = 0; k < runCount; k++)
        {
            float* row = runs[k].Top + offset;
            a = Avx512F.MaskLoad(row, runs[k].First, a);
            b = Avx512F.MaskLoad(row + 16, runs[k].Last, b);
            a2 = Avx512F.MaskLoad(row + 2, runs[k].First, a2);
            b2 = Avx512F.MaskLoad(row + 18, runs[k].Last, b2);
        }
        Vector512<float> d0 = Avx512F.PermuteVar16x32x2(a, even, b), d1 = Avx512F.PermuteVar16x32x2(a, odd, b);
        Vector512<float> d2 = Avx512F.PermuteVar16x32x2(a2, even, b2), d3 = Avx512F.PermuteVar16x32x2(a2, odd, b2);
        t0 = d0 - d2;
        t1 = d1 + d2;
        t2 = d2 - d1;
        t3 = d1 - d3;
    }

    /// <summary>M[pos] = U[pos] · V[pos] for every position, the block's first <paramref name="columns"/> tiles: the micro-kernel with V's rows read in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Multiply(float* v, float* m, int columns)
    {
        int mr = _tileRows, panels = _paddedRows / mr, depth = _channels;
        fixed (float* packed = _packedWeights)
        {
            for (int pos = 0; pos < Positions; pos++)
            {
                float* a = packed + (long)pos * _paddedRows * depth, b = v + pos * _inputPositionStride, c = m + pos * _productPositionStride;
                for (int j = 0; j < columns; j += TileCols)
                    for (int panel = 0; panel < panels; panel++)
                        GemmMicroKernel<Vector512<float>, V512>.Tile(depth, a + (long)panel * mr * depth, new PackedRows(b + j, _tileStride),
                            c + (long)panel * mr * _tileStride + j, _tileStride, 1f, overwrite: true);
            }
        }
    }

    /// <summary>
    /// Each of the block's <paramref name="tiles"/> tiles' 2×2 output block Aᵀ M A (Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]),
    /// 16 consecutive tiles of the block per vector, whatever tile rows and images they belong to: a vector of one row's
    /// tiles ran 7 of its 16 lanes on a 14×14 map, and this transform took a quarter of a 32→64 conv. The two output
    /// rows, interleaved, are stored a run of the same tile row at a time, at <paramref name="rowStarts"/>[block row]
    /// + 2·(tile column); <paramref name="realRows"/>[block row] of them are real (an odd height's last tile row has one).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TransformOutput(float* m, nint* rowStarts, int* realRows, int tiles, int wideStride, int wideWidth)
    {
        var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var high = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        long ps = _productPositionStride;
        // Per run of one tile row, per output row: where its vectors go, and which of their floats are its.
        var runs = stackalloc TileRun[32];
        for (int t0 = 0; t0 < tiles; t0 += 16)
        {
            int count = Math.Min(16, tiles - t0), runCount = 0;
            for (int start = 0; start < count;)
            {
                var run = RunFrom(t0, start, count, rowStarts, out int row, out start);
                for (int r = 0; r < realRows[row]; r++) runs[runCount++] = run.ForOutputRow(r, wideWidth);
            }
            var load = Vector512.LessThan(lanes, Vector512.Create(count)).AsSingle();
            for (int o = 0; o < _rows; o++)
            {
                float* source = m + (long)o * _tileStride + t0;
                // Row sums of Aᵀ M: s_j over M's rows 0–2, u_j = rows 1 − 2 − 3, for each column j of the 4×4 block.
                ColumnSums(source, ps, load, out var s0, out var u0);
                ColumnSums(source + ps, ps, load, out var s1, out var u1);
                ColumnSums(source + 2 * ps, ps, load, out var s2, out var u2);
                ColumnSums(source + 3 * ps, ps, load, out var s3, out var u3);
                // Output row 0 from s, row 1 from u: left column = sums 0–2, right = 1 − 2 − 3, interleaved.
                Vector512<float> left0 = s0 + s1 + s2, right0 = s1 - s2 - s3, left1 = u0 + u1 + u2, right1 = u1 - u2 - u3;
                var first0 = Avx512F.PermuteVar16x32x2(left0, low, right0);
                var last0 = Avx512F.PermuteVar16x32x2(left0, high, right0);
                var first1 = Avx512F.PermuteVar16x32x2(left1, low, right1);
                var last1 = Avx512F.PermuteVar16x32x2(left1, high, right1);
                long channel = (long)o * wideStride;
                for (int k = 0; k < runCount; k++)
                {
                    ref readonly var run = ref runs[k];
                    float* target = run.Top + channel;
                    bool second = run.OutputRow == 1;
                    Avx512F.MaskStore(target, run.First, second ? first1 : first0);
                    Avx512F.MaskStore(target + 16, run.Last, second ? last1 : last0);
                }
            }
        }
    }

    /// <summary>Column j of the 4×4 block M (positions j, 4 + j, 8 + j, 12 + j) times Aᵀ: rows 0 + 1 + 2 and 1 − 2 − 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ColumnSums(float* column, long positionStride, Vector512<float> load, out Vector512<float> sum, out Vector512<float> difference)
    {
        var m0 = Avx512F.MaskLoad(column, load, Vector512<float>.Zero);
        var m1 = Avx512F.MaskLoad(column + 4 * positionStride, load, Vector512<float>.Zero);
        var m2 = Avx512F.MaskLoad(column + 8 * positionStride, load, Vector512<float>.Zero);
        var m3 = Avx512F.MaskLoad(column + 12 * positionStride, load, Vector512<float>.Zero);
        sum = m0 + m1 + m2;
        difference = m1 - m2 - m3;
    }

    public void Dispose() => TensorPool.Return(_packedWeights);
}
