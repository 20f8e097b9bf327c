using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// Inference convolution vectorised across output channels, for the shapes where the pixel-vectorised GEMMs run
/// half empty: small maps (ResNet/VGG/SqueezeNet late stages, 8×8 and below) and strided stems with a few input
/// channels. A register tile holds 16·V output channels (V vectors) for R consecutive output pixels;
/// every tap (input channel, kernel row, kernel column) is V loads of packed weights and R broadcasts of the
/// padded input, read in place through each pixel's window origin, into V·R independent multiply-adds (the layout MLAS's NCHWc
/// kernels use, without converting the tensors). The tile is transposed 4×4 per 128-bit lane on the way out, so
/// each output channel's R pixels are stored contiguously into NCHW. Sums run in tap order from the bias; a clamp
/// (fused ReLU or ReLU6) is applied as the tile is stored. AVX-512 only; forward only.
/// </summary>
internal static unsafe class ChannelVectorConv
{
    /// <summary>
    /// Output pixels up to which a map is small enough to run here at any batch: the pixel-vectorised GEMMs' column tiles
    /// run part-empty up to 64, and up to SqueezeNet-style's 11×11 maps this kernel still beat the implicit GEMM (16→64
    /// 3×3 at batch 32 on two threads: 320 → 299 µs).
    /// </summary>
    private const int MaxSmallMapPixels = 128;

    /// <summary>
    /// Whether the inference of <paramref name="g"/> runs here: AVX-512, one group, at least 16 output channels (a
    /// vector); a small output map, a strided stem of at most 4 input channels (whose im2col products are only 27–147
    /// deep) or a single image of 8+ channels on a map up to <see cref="MaxSingleImagePixels"/>; and a batch whose output
    /// pixels (uses of each weight) the GEMM paths would not fill their tiles with (<see cref="GemmFillsItsTiles"/>), or a
    /// single image too small to split between threads, which either kernel runs on one thread (VGG-style's 8×8 maps at
    /// batch 1: 68 → 63.5 µs; SqueezeNet-style's 11×11 ones, which split, were slower here).
    /// Training keeps the GEMM kernels, whose backward passes share their layouts.
    /// </summary>
    public static bool Supports(ConvGeometry g) =>
        Runs(g)
        && (!GemmFillsItsTiles((long)g.Batch * g.OutPixels) || g.Batch == 1 && (long)g.OutPixels * g.WindowLength * g.OutChannels < MinSplitMultiplyAdds)
        && (g.OutPixels <= MaxSmallMapPixels || g.InChannels <= 4 && (g.StrideHeight > 1 || g.StrideWidth > 1)
            || g.Batch == 1 && g.InChannels >= 8 && g.OutPixels <= MaxSingleImagePixels);

    /// <summary>
    /// Whether <paramref name="g"/> can run here at all (<see cref="Supports"/> adds where it is the fastest): AVX-512, one
    /// group, 16 output channels or more, or fewer on a map of fewer pixels than a vector, where the pixel-vectorised
    /// kernels run emptier still (SqueezeNet-style's 512 → 10 classifier on 2×2 maps at batch 32, on the batched GEMM's
    /// tiles of 10 rows: 62.7 → 18.9 µs on one thread).
    /// </summary>
    public static bool Runs(ConvGeometry g) => Avx512F.IsSupported && g.Groups == 1 && (g.OutChannels >= 16 || g.OutPixels < 16);

    /// <summary>
    /// Output pixels up to which a single image (batch-1 latency) runs here rather than on the implicit GEMM split between
    /// threads: each band of tiles pads its own copy of the input, and no padded columns are computed. cnn-bn's convs at
    /// batch 1 on two threads: 64→64 on 14×14 74 → 57 µs, 32→64 40 → 33, 32→32 on 28×28 77 → 62 (with the batch norm
    /// applied as the tile is stored). cnn-small at batch 1: 61.4 → 58.6 µs; cnn-bn as a whole did not move (221 → 224
    /// µs, within the noise), nor did the imported models. Stems of 1–4 channels stay on the GEMM (16 against 9.3 µs).
    /// </summary>
    private const int MaxSingleImagePixels = 784;

    /// <summary>
    /// Whether the batched im2col GEMM, whose columns are the batch's output pixels, beats this kernel: from 32 columns
    /// (a whole column tile) up to 128. MobileNetV2-style's 1×1 maps at batch 32 ran 3× slower here (its batch 32:
    /// 1.31–1.39 → 1.48–1.52 ms). Below 32 the GEMM's tiles run mostly empty: SqueezeNet-style at batch 1 (5×5 and 2×2
    /// maps) 391 → 303 µs here, MobileNetV2-style 326 → 210, ResNet-18-style 131 → 103, VGG-style 85 → 64. From 128 this
    /// kernel is faster again. (The packed weights are kept per weight tensor and trusted by version, so a call costs no
    /// check of them.)
    /// </summary>
    private static bool GemmFillsItsTiles(long uses) => uses is >= 32 and < 128;

    /// <summary>Output-channel vectors per register tile: 4 (64 channels, with 4 pixels) for wide layers, 2 for 17–63 channels and 1 for 16 or fewer (with 8 pixels).</summary>
    private static int VectorsPerTile(int outChannels) => outChannels >= 64 && (outChannels % 64 == 0 || outChannels > 128) ? 4 : outChannels > 16 ? 2 : 1;

    /// <summary>Pixels per register tile: 4 with 64 channels, 8 with 32 or 16 (16 accumulators; 32 × 4 had 8, too few to hide the multiply-add latency).</summary>
    private static int PixelsPerTile(int vectors) => vectors == 4 ? 4 : 8;

    /// <summary>Floats of one tile's sums: 64 channels × 4 pixels, 32 × 8 or 16 × 8.</summary>
    private const int SumsLength = 256;

    /// <summary>
    /// Weights [O, C, kH, kW] packed by blocks of 16·V output channels, tap-major within a block ([block][tap][16·V],
    /// zero beyond O), each block keeping only its live taps: those where some of its weights are not zero. A 3×3 conv
    /// whose first channels are a 1×1 conv's, zero but for the centre (two branches merged, as SqueezeNet's expand
    /// convs once their Concat is folded in, see InferenceRewrite), then costs its blocks of 1×1 channels a ninth. A tap
    /// skipped reads nothing, as the 1×1 conv itself would not (an infinite input there no longer turns 0·x into NaN).
    /// The whole kernel's taps are <see cref="Full"/>; the taps of a window cut by the padding (<see cref="Window"/>) are
    /// packed when first asked for, and kept. Otherwise immutable once built, so it can be kept per weight tensor (see
    /// ConvPlans) and used by several threads at once.
    /// </summary>
    public sealed class Packed
    {
        public Packed(ConvGeometry g, ReadOnlySpan<float> weight)
        {
            Vectors = VectorsPerTile(g.OutChannels);
            Blocks = (g.OutChannels + 16 * Vectors - 1) / (16 * Vectors);
            _geometry = g;
            _offsets = new InputLayout(g, blocked: false).TapOffsets();
            _blockedOffsets = new InputLayout(g, blocked: true).TapOffsets();
            RowWindows = KernelWindows(g.OutHeight, g.StrideHeight, g.PadTop, g.KernelHeight, g.DilationHeight, g.InHeight);
            ColumnWindows = KernelWindows(g.OutWidth, g.StrideWidth, g.PadLeft, g.KernelWidth, g.DilationWidth, g.InWidth);
            Full = new ChannelVectorTaps(g, weight, Vectors, _offsets, _blockedOffsets, (0, g.KernelHeight), (0, g.KernelWidth), full: null);
            FullWindow = WindowKey((0, g.KernelHeight), (0, g.KernelWidth));
            // Windows are kept in a table of every (rows, columns) pair: a kernel larger than MaxEdgeKernel runs whole everywhere.
            HasEdges = g.KernelHeight <= MaxEdgeKernel && g.KernelWidth <= MaxEdgeKernel
                && (RowWindows.Any(w => w != (0, g.KernelHeight)) || ColumnWindows.Any(w => w != (0, g.KernelWidth)));
            _windows = HasEdges ? new ChannelVectorTaps?[Spans(g.KernelHeight) * Spans(g.KernelWidth)] : [];
            // The weights are kept only to pack the edges' taps when first asked for.
            _weight = HasEdges ? weight.ToArray() : [];
            Positions = !HasEdges ? [] : Enumerable.Range(0, g.OutPixels).OrderBy(q => WindowOf(q) == FullWindow ? 0 : 1).ThenBy(WindowOf).ThenBy(q => q).ToArray();
            int WindowOf(int q) => WindowKey(RowWindows[q / g.OutWidth], ColumnWindows[q % g.OutWidth]);
            UnevenBlocks = Full.Live.Distinct().Count() > 1;
        }

        public int Vectors { get; }
        public int Blocks { get; }

        /// <summary>Every tap (but those of all-zero weights): what a tile runs whose pixels' windows cover the whole kernel.</summary>
        public ChannelVectorTaps Full { get; }

        /// <summary>How many taps each block keeps of <see cref="Full"/>.</summary>
        public int[] LiveTaps => Full.Live;

        /// <summary>Whether the blocks keep different numbers of taps, and so cost different amounts.</summary>
        public bool UnevenBlocks { get; }

        /// <summary>For each output row, the kernel rows its windows read inside the input (the others read padding).</summary>
        public (int First, int End)[] RowWindows { get; }

        /// <summary>For each output column, the kernel columns its windows read inside the input.</summary>
        public (int First, int End)[] ColumnWindows { get; }

        /// <summary>Whether some output pixel's windows reach into the padding (its row's or column's window is not the whole kernel).</summary>
        public bool HasEdges { get; }

        /// <summary>
        /// The output map's positions (row-major indices), those of each kernel window together: the interior, then each
        /// edge and corner, so that tiles computed a position at a time share their window, and a run of them its taps.
        /// </summary>
        public int[] Positions { get; }

        /// <summary>The <see cref="WindowKey"/> of the whole kernel.</summary>
        public int FullWindow { get; }

        private readonly ConvGeometry _geometry;
        private readonly float[] _weight;
        private readonly int[] _offsets, _blockedOffsets;

        /// <summary>The windows packed so far, by <see cref="WindowKey"/>; written once each, read without a lock.</summary>
        private readonly ChannelVectorTaps?[] _windows;

        /// <summary>The largest kernel side whose edges run their own taps (a table of 120² windows).</summary>
        private const int MaxEdgeKernel = 15;

        /// <summary>Spans [first, end) of a kernel side of <paramref name="size"/> positions.</summary>
        private static int Spans(int size) => size * (size + 1) / 2;

        private static int Span((int First, int End) span, int size) => span.First * (2 * size - span.First + 1) / 2 + span.End - span.First - 1;

        /// <summary>Kernel rows [<paramref name="rows"/>) and columns [<paramref name="columns"/>) as one index into the table of windows.</summary>
        public int WindowKey((int First, int End) rows, (int First, int End) columns) =>
            Span(rows, _geometry.KernelHeight) * Spans(_geometry.KernelWidth) + Span(columns, _geometry.KernelWidth);

        /// <summary>
        /// The taps of the kernel window <paramref name="key"/> (<see cref="WindowKey"/>): <see cref="Full"/> for the whole
        /// kernel, else packed on first use and kept (a few windows a geometry: its edges and corners). Two threads may
        /// both pack one; the first to publish it wins.
        /// </summary>
        public ChannelVectorTaps Window(int key)
        {
            if (key == FullWindow) return Full;
            if (Volatile.Read(ref _windows[key]) is { } taps) return taps;
            var (rows, columns) = (SpanOf(key / Spans(_geometry.KernelWidth), _geometry.KernelHeight), SpanOf(key % Spans(_geometry.KernelWidth), _geometry.KernelWidth));
            Interlocked.CompareExchange(ref _windows[key], new ChannelVectorTaps(_geometry, _weight, Vectors, _offsets, _blockedOffsets, rows, columns, Full), null);
            return _windows[key]!;
        }

        /// <summary>The span whose <see cref="Span"/> index is <paramref name="index"/>.</summary>
        private static (int First, int End) SpanOf(int index, int size)
        {
            int first = 0;
            while (index >= size - first) (index, first) = (index - (size - first), first + 1);
            return (first, first + index + 1);
        }

        /// <summary>
        /// For each of <paramref name="outputs"/> positions along an axis, the kernel positions [first, end) whose input
        /// lies inside the <paramref name="size"/> of that axis; the whole kernel where none does (the window is all padding).
        /// </summary>
        private static (int First, int End)[] KernelWindows(int outputs, int stride, int pad, int kernel, int dilation, int size)
        {
            var windows = new (int First, int End)[outputs];
            for (int o = 0; o < outputs; o++)
            {
                int first = 0, end = kernel;
                while (first < kernel && o * stride - pad + first * dilation < 0) first++;
                while (end > first && o * stride - pad + (end - 1) * dilation >= size) end--;
                windows[o] = first < end ? (first, end) : (0, kernel);
            }
            return windows;
        }
    }

    /// <summary>
    /// y [N, O, outH, outW] = conv of x [N, C, H, W] with the packed weights and bias, then the batch norm
    /// <paramref name="norm"/> where given (as the separate op computes it), each output clamped to
    /// [<paramref name="low"/>, <paramref name="high"/>]. Work is split over (image, channel block, band of tiles),
    /// bands only where images × blocks are fewer than threads (batch-1 latency). <paramref name="pool"/> takes the 2×2
    /// max pool in the tiles; <paramref name="windows"/>, any other max pool over the output (dilation 1): each image's
    /// outputs then go to a pixel-major scratch, as they are in the registers, and only the pooled ones are transposed.
    /// <paramref name="blockedInput"/> reads x, <paramref name="blockedOutput"/> writes y in channel blocks
    /// ([N, ⌈C / 16⌉, H, W, 16], see <see cref="ChannelBlocks"/>): a tile's pixel vectors are then stored as they are, whole
    /// and in order, with no transpose (a residual is not taken then).
    /// </summary>
    public static void Forward(ConvGeometry g, Packed packed, float[] x, float[]? bias, float[] y, float low = float.NegativeInfinity, float high = float.PositiveInfinity,
        BatchNormAffine? norm = null, bool pool = false, float[]? residual = null, PoolGeometry? windows = null, bool blockedInput = false, bool blockedOutput = false)
    {
        // The batch norm's mean, scale and shift, each padded with zeros to whole blocks of channels, one after the other.
        int normStride = packed.Blocks * 16 * packed.Vectors;
        float[] normTable = norm is null ? [] : TensorPool.Rent(3 * normStride);
        if (norm is not null)
        {
            var table = normTable.AsSpan(0, 3 * normStride);
            table.Clear();
            norm.Mean.AsSpan(0, g.OutChannels).CopyTo(table);
            norm.Scale.AsSpan(0, g.OutChannels).CopyTo(table[normStride..]);
            norm.Shift.AsSpan(0, g.OutChannels).CopyTo(table[(2 * normStride)..]);
        }
        try
        {
            Forward(g, packed, x, bias, y, low, high, normTable, norm is null ? 0 : normStride, pool, residual, windows, blockedInput, blockedOutput);
        }
        finally
        {
            TensorPool.Return(normTable);
        }
    }

    private static void Forward(ConvGeometry g, Packed packed, float[] x, float[]? bias, float[] y, float low, float high, float[] normTable, int normStride,
        bool pool, float[]? residual, PoolGeometry? windows, bool blockedInput, bool blockedOutput)
    {
        if (blockedOutput && residual is not null) throw new ArgumentException("ChannelVectorConv: a residual is not added to an output in channel blocks.");
        if ((pool || windows is not null) && residual is not null) throw new ArgumentException("ChannelVectorConv: a residual cannot be added before a fused pool.");
        if (pool && windows is not null) throw new ArgumentException("ChannelVectorConv: one fused pool at most.");
        if (windows is { DilationH: not 1 } or { DilationW: not 1 }) throw new ArgumentException("ChannelVectorConv: a fused pool has no dilation.");
        var layout = new InputLayout(g, blockedInput);
        // With a pool, the pixels computed are the pool windows' (4 each); the outputs, one per window.
        int mapPixels = pool ? 4 * PoolWindows(g) : g.OutPixels, outPlane = pool ? PoolWindows(g) : windows is { } w ? w.OutH * w.OutW : g.OutPixels;
        // Tiny maps run several images per pass over the weights, so that each weight loaded serves enough pixels.
        int images = ImagesPerGroup(g, packed.Vectors, mapPixels), groups = (g.Batch + images - 1) / images, items = groups * packed.Blocks;
        int pixels = PixelsPerTile(packed.Vectors), tiles = (images * mapPixels + pixels - 1) / pixels;
        // Several images of a tiny padded map, stored to channel blocks or pixel-major for a fused pool (whose windows then
        // read them image by image), are computed a position at a time (the same pixel of each image of the group),
        // positions of one kernel window together (Packed.Positions), so that a tile's windows reach the same taps inside
        // the input and skip the same ones in the padding: on 2×2 maps a 3×3 window has 4 of its 9 taps inside (SqueezeNet-style's merged 64 → 512 Fire module at batch 32: 150 → 95 µs on two
        // threads; 32 → 256 on 5×5 maps 229 → 211). A single image's tiles, 4 or 8 pixels of one window at most, were
        // slower so (11×11 maps: the edges' weights came from L2 for a few tiles each).
        bool positionMajor = images > 1 && packed.HasEdges && !pool && (blockedOutput || windows is not null);
        bool uneven = Uneven(groups, packed);
        int bands = Bands(g, packed, mapPixels, windows);
        int pixelMajorLength = windows is null ? 0 : (images * g.OutPixels + outPlane) * 16 * packed.Vectors;
        // Windows inside the input, with no padding (1×1 convs, unpadded ones; see InputLayout), read it in place: the
        // padded copy would be the input itself. Copying it cost MobileNetV2's
        // 1×1 projections on 2×2 maps at batch 32 (16 images a group, 96 channels: 1536 tiny planes) 90 % of their time.
        bool inPlace = layout.InPlace;
        int paddedLength = inPlace ? 0 : images * layout.Length;
        int[]? smallPixels = inPlace || blockedInput ? null : layout.SmallPlanePixels();
        // Floats of one image of x and of y.
        long inImage = blockedInput ? ChannelBlocks.Length(1, g.InChannels, g.InPixels) : (long)g.InChannels * g.InPixels;
        long outImage = blockedOutput ? ChannelBlocks.Length(1, g.OutChannels, outPlane) : (long)g.OutChannels * outPlane;
        // A conv too small to pay for splitting runs on the calling thread.
        long multiplyAdds = (long)g.Batch * mapPixels * 16 * packed.Vectors * packed.LiveTaps.Sum();
        int perChunk = multiplyAdds < DirectConv.MinForkMultiplyAdds ? items * bands : 1;
        try
        {
            Parallelism.For(items * bands, (start, end) =>
            {
                // A fused pool's pieces (a few conv rows) may reach beyond a band's share of tiles.
                int bandTiles = windows is null ? (tiles + bands - 1) / bands : tiles, sumsLength = SumsLength * bandTiles;
                float[] scratch = TensorPool.Rent(paddedLength + CacheLines.Slack + SumsLength + sumsLength + pixelMajorLength);
                int[] origins = TensorPool.RentInts((2 * pixels + 1) * bandTiles);
                int filledGroup = -1;
                (int First, int End) filledRows = (0, 0);
                fixed (float* xs = x, ys = y, pp = scratch, nt = normTable, rs = residual)
                fixed (int* origin = origins, sp = smallPixels)
                {
                    for (int item = start; item < end; item++)
                    {
                        // Items run band-major where blocks are uneven (a thread's chunk is then whole bands), else band-minor.
                        int band = uneven ? item / items : item % bands, rest = uneven ? item % items : item / bands;
                        int block = packed.UnevenBlocks ? Alternating(rest % packed.Blocks, packed.Blocks) : rest % packed.Blocks, group = rest / packed.Blocks;
                        int first = group * images, count = Math.Min(images, g.Batch - first);
                        int groupPixels = count * mapPixels;
                        int firstPixel = Math.Min(groupPixels, tiles * band / bands * pixels), endPixel = Math.Min(groupPixels, tiles * (band + 1) / bands * pixels);
                        // With a fused pool, the band's pooled rows and the conv rows they read.
                        (int First, int End) pooledRows = default;
                        if (windows is { } rowsMap)
                        {
                            pooledRows = (rowsMap.OutH * band / bands, rowsMap.OutH * (band + 1) / bands);
                            if (bands > 1)
                                (firstPixel, endPixel) = (Math.Max(0, pooledRows.First * rowsMap.StrideH - rowsMap.PadH) * g.OutWidth,
                                    Math.Min(g.OutHeight, (pooledRows.End - 1) * rowsMap.StrideH - rowsMap.PadH + rowsMap.KernelH) * g.OutWidth);
                        }
                        // A band of a single image pads only the rows its tiles read (the rest of the buffer is never read);
                        // its input was mostly written by the other cores, and copying all of it cost a seventh of the conv.
                        var (firstRow, endRow) = count == 1 && bands > 1 && firstPixel < endPixel && !positionMajor
                            ? layout.RowsRead(OutputRow(g, pool, firstPixel), OutputRow(g, pool, endPixel - 1))
                            : (0, layout.Rows);
                        if (!inPlace && (group != filledGroup || firstRow < filledRows.First || endRow > filledRows.End))
                        {
                            if (group == filledGroup) (firstRow, endRow) = (Math.Min(firstRow, filledRows.First), Math.Max(endRow, filledRows.End));
                            for (int i = 0; i < count; i++)
                            {
                                float* image = xs + (first + i) * inImage, target = pp + (long)i * layout.Length;
                                if (smallPixels is not null && firstRow == 0 && endRow == layout.Rows) layout.FillSmall(image, target, sp);
                                else layout.Fill(image, target, firstRow, endRow);
                            }
                            (filledGroup, filledRows) = (group, (firstRow, endRow));
                        }
                        float* biasTile = CacheLines.AlignUp(pp + paddedLength), sums = biasTile + SumsLength, pixelMajor = windows is null ? null : sums + sumsLength;
                        float* input = inPlace ? xs + first * inImage : pp;
                        ReplicateBias(bias, g.OutChannels, block, packed.Vectors, biasTile);
                        var run = new Tiles(g, layout, packed, block, blockedInput, sums, biasTile, input,
                            ys + first * outImage, block * 16 * packed.Vectors, groupPixels, low, high, normStride == 0 ? null : nt, normStride, pool,
                            rs == null ? null : rs + (long)first * g.OutChannels * outPlane, pixelMajor, blockedOutput,
                            // A last group of one image runs row-major: a fused pool then computes the rows it reads as it goes.
                            positionMajor && count > 1 ? count : 0);
                        if (windows is { } w)
                            RunPooled(run, g, w, packed.Vectors, count, pooledRows, firstPixel, pixelMajor, pixelMajor + (long)images * g.OutPixels * 16 * packed.Vectors,
                                ys + first * outImage + (long)block * 16 * packed.Vectors * outPlane, outImage, blockedOutput,
                                Math.Min(16 * packed.Vectors, g.OutChannels - block * 16 * packed.Vectors), origin);
                        else run.Run(packed.Vectors, firstPixel, endPixel, origin);
                    }
                }
                TensorPool.Return(scratch);
                TensorPool.ReturnInts(origins);
            }, perChunk);
        }
        finally
        {
            if (smallPixels is not null) TensorPool.ReturnInts(smallPixels);
        }
    }

    /// <summary>
    /// The conv of one group's block with a max pool other than 2×2, pooled rows [<paramref name="pooledRows"/>) of each
    /// image (all of them but in a band of a single image), from conv pixel <paramref name="firstPixel"/>: the outputs go
    /// pixel-major to <paramref name="outputs"/> (each pixel's 16·<paramref name="vectors"/> channels of the block) as they
    /// are in the registers, the pool takes each window's maximum 16 channels at a time as the small-plane pool does
    /// (<see cref="SmallPlaneMaxPool.Pool"/>: the separate op's rule) into <paramref name="pooled"/> (per vector, each
    /// pooled pixel's 16 channels), and only those go to the block's <paramref name="channels"/> output planes. A single
    /// image is pooled a row at a time as soon as the conv has computed the rows that row reads, which are then still in
    /// L1: pooled after the whole image (135 KB of outputs for SqueezeNet-style's stem), it read them from L2 at about
    /// the cost of the conv itself. Several tiny images of a group are computed first, then pooled. <paramref name="planes"/>
    /// is the block's first output channel in the group's first image, images <paramref name="outImage"/> floats apart; in
    /// channel <paramref name="blocks"/> the pool writes there itself, pixel-major being their layout.
    /// </summary>
    private static void RunPooled(Tiles run, ConvGeometry g, PoolGeometry w, int vectors, int count, (int First, int End) pooledRows, int firstPixel,
        float* outputs, float* pooled, float* planes, long outImage, bool blocks, int channels, int* origin)
    {
        int pixels = PixelsPerTile(vectors), groupPixels = count * g.OutPixels, outPixels = w.OutH * w.OutW, computed = firstPixel;
        var (first, end) = count > 1 ? (0, w.OutH) : pooledRows;
        for (int i = 0; i < count; i++)
        {
            float* image = outputs + (long)i * g.OutPixels * 16 * vectors;
            for (int oh = first; oh < end; oh++)
            {
                int needed = count > 1 ? groupPixels : Math.Min(g.OutHeight, oh * w.StrideH - w.PadH + w.KernelH) * g.OutWidth;
                if (needed > computed)
                {
                    // Whole tiles from the last one computed, so that no pixel is computed twice.
                    int last = Math.Min(groupPixels, computed + (needed - computed + pixels - 1) / pixels * pixels);
                    run.Run(vectors, computed, last, origin);
                    computed = last;
                }
                for (int v = 0; v * 16 < channels; v++)
                    SmallPlaneMaxPool.Pool(w, image + 16 * v, 16 * vectors, (blocks ? planes + i * outImage : pooled) + (long)v * outPixels * 16, oh, oh + 1);
            }
            if (blocks) continue;
            for (int v = 0; v * 16 < channels; v++)
                PixelMajor.ToPlanes(pooled + ((long)v * outPixels + first * w.OutW) * 16, (end - first) * w.OutW,
                    planes + i * outImage + (long)16 * v * outPixels + first * w.OutW, outPixels, Math.Min(16, channels - 16 * v));
        }
    }

    /// <summary>
    /// Bands of tiles each (image group, block) is split into, one a thread: where items (image groups × blocks) are
    /// fewer than threads and an item has work enough, or where blocks keep different numbers of taps (merged branches
    /// cost different amounts: with fewer image groups than threads a thread's share is then a band of every block, not a
    /// run of blocks; at batch 1 a merged Fire module's two blocks of 1×1 channels went to one thread, its two of 3×3
    /// channels to the other). A fused pool other than 2×2 (<paramref name="windows"/>) splits a single image into bands
    /// of pooled rows, each computing the conv rows its windows read (those between two bands twice), from half the
    /// multiply-adds, as its items also pool and transpose (SqueezeNet-style's stem at batch 1, 0.9 M multiply-adds:
    /// 32 → 24.5 µs); a group of several images is not split.
    /// </summary>
    private static int Bands(ConvGeometry g, Packed packed, int mapPixels, PoolGeometry? windows)
    {
        int images = ImagesPerGroup(g, packed.Vectors, mapPixels), groups = (g.Batch + images - 1) / images, items = groups * packed.Blocks;
        if (windows is not null && images > 1) return 1;
        int tiles = (images * mapPixels + PixelsPerTile(packed.Vectors) - 1) / PixelsPerTile(packed.Vectors);
        long multiplyAdds = (long)images * mapPixels * g.WindowLength * 16 * packed.Vectors;
        long minimum = windows is null ? MinSplitMultiplyAdds : MinSplitMultiplyAdds / 2;
        return (items >= Parallelism.Threads && !Uneven(groups, packed)) || multiplyAdds < minimum ? 1
            : Math.Min(windows is { } w ? Math.Min(tiles, w.OutH) : tiles, Parallelism.Threads);
    }

    /// <summary>Whether blocks of different cost meet fewer image groups than threads: each thread then takes a band of every block (<see cref="Bands"/>).</summary>
    private static bool Uneven(int groups, Packed packed) => groups < Parallelism.Threads && packed.UnevenBlocks;

    /// <summary>
    /// Item <paramref name="i"/>'s block where blocks cost different amounts: first, last, second, second to last, …, so
    /// that a thread's run of blocks mixes cheap and dear ones (a merged Fire module's 1×1 blocks are all first or all
    /// last; run in order, at batch 1 on 5×5 and 2×2 maps, one thread had the 1×1 blocks and the other the 3×3 ones).
    /// </summary>
    private static int Alternating(int i, int blocks) => i % 2 == 0 ? i / 2 : blocks - 1 - i / 2;

    /// <summary>Multiply-adds of one item below which it is not split into bands: waking a worker costs more than the work (as the implicit GEMM's rule).</summary>
    private const long MinSplitMultiplyAdds = 1 << 20;

    /// <summary>Pixels a pass over a block's weights aims for: 64, a few images of a tiny map (16 of 2×2), one of 8×8 and up.</summary>
    private const int TargetPixels = 64;

    /// <summary>
    /// Images a pass over the weights takes: at least <see cref="TargetPixels"/>' worth, and up to twice that many
    /// images where more fill the last tile better (5×5 maps: 2 images are 13 tiles of 4 for 50 pixels, 4 are 25 for
    /// 100; SqueezeNet-style's 5×5 Fire modules at batch 32 ran their empty pixels 4 %, their 32-channel squeezes 12 %).
    /// </summary>
    private static int ImagesPerGroup(ConvGeometry g, int vectors, int mapPixels)
    {
        int fewest = Math.Clamp(TargetPixels / g.OutPixels, 1, g.Batch), pixels = PixelsPerTile(vectors), best = fewest;
        long Empty(int images) => ((long)images * mapPixels + pixels - 1) / pixels * pixels - (long)images * mapPixels;
        for (int images = fewest + 1; fewest > 1 && images <= Math.Min(2 * fewest, g.Batch); images++)
            if (Empty(images) * best < Empty(best) * images) best = images;
        return best;
    }

    /// <summary>The output row of a single image's pixel <paramref name="pixel"/>, as the tiles number them (pool windows' pixels 4 by 4 with a pool).</summary>
    private static int OutputRow(ConvGeometry g, bool pool, int pixel) =>
        pool ? 2 * (pixel / 4 / (g.OutWidth / 2)) + pixel % 4 / 2 : pixel / g.OutWidth;

    /// <summary>Windows of a 2×2 stride-2 max pool over the output map (a last odd row or column is dropped).</summary>
    private static int PoolWindows(ConvGeometry g) => g.OutHeight / 2 * (g.OutWidth / 2);

    /// <summary>
    /// The block's bias (zeros past O, or without one) as a tile's starting sums: the block's channels for each of the
    /// tile's pixels, a vector at a time (one float at a time, it was a fifth of a conv's own cost on a 1×1 map at batch 1).
    /// </summary>
    private static void ReplicateBias(float[]? bias, int outChannels, int block, int vectors, float* tile)
    {
        int pixels = PixelsPerTile(vectors), width = 16 * vectors;
        for (int v = 0; v < vectors; v++)
        {
            int o = block * width + 16 * v;
            var lanes = Vector512<float>.Zero;
            if (bias is not null && o < outChannels)
                fixed (float* b = bias)
                    lanes = Avx512F.MaskLoad(b + o, Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(outChannels - o)).AsSingle(), Vector512<float>.Zero);
            for (int r = 0; r < pixels; r++) lanes.Store(tile + (v * pixels + r) * 16);
        }
    }

    /// <summary>
    /// Taps per pass over the tiles: the pass's packed weights (16·V floats a tap) take 36 KB, three quarters of L1, 144
    /// taps of 64 channels: a 3×3 conv's taps of a block of 16 input channels in one pass. Each pass reloads and stores
    /// the tiles' sums; with 64 taps a pass (16 KB), SqueezeNet-style's merged 11×11 Fire module ran 4 % slower on two
    /// threads (317 against 305 µs at batch 32), its 5×5 one 3 %.
    /// </summary>
    private static int TapsPerBlock(int vectors) => 9216 / (16 * vectors);

    /// <summary>
    /// One image's input, zero-padded on every side to the rows and columns the windows read: planes of channels, or in
    /// channel blocks (<see cref="ChannelBlocks"/>: a pixel of 16 channels a vector, the input's own layout then).
    /// </summary>
    private readonly struct InputLayout
    {
        private readonly ConvGeometry _g;

        public InputLayout(ConvGeometry g, bool blocked)
        {
            _g = g;
            // Windows inside the image with no padding above or left of it read it as it is, whole rows (a strided
            // stem that never reads the last row or column, SqueezeNet-style's, copied its input for nothing).
            InPlace = g.PadTop == 0 && g.PadLeft == 0 && g.RowsRead <= g.InHeight && g.ColumnsRead <= g.InWidth;
            Rows = InPlace ? g.InHeight : g.RowsRead;
            RowLength = InPlace ? g.InWidth : g.ColumnsRead;
            PixelStep = blocked ? ChannelBlocks.Lanes : 1;
            Length = blocked ? (int)ChannelBlocks.Length(1, g.InChannels, Plane) : g.InChannels * Plane;
            _rowStep = g.StrideHeight * RowLength * PixelStep;
            _columnStep = g.StrideWidth * PixelStep;
        }

        // Floats between the window origins of two output rows and two output columns (found once: the origins are
        // walked per pixel, and a Length worked out on each call was a twentieth of a 1×1 conv with 16 outputs).
        private readonly int _rowStep, _columnStep;

        public int Rows { get; }
        public int RowLength { get; }

        /// <summary>Whether the windows read the input as it is, with no padding: the padded copy would be the input itself.</summary>
        public bool InPlace { get; }

        /// <summary>Floats from one pixel of a channel to the next: 1 in planes, 16 in channel blocks.</summary>
        public int PixelStep { get; }

        public int Plane => Rows * RowLength;
        public int Length { get; }

        /// <summary>The offset of channel <paramref name="c"/>'s pixel <paramref name="pixel"/> (row-major in the padded plane).</summary>
        private int Offset(int c, int pixel) => PixelStep == 1 ? c * Plane + pixel : ((c >> 4) * Plane + pixel) * ChannelBlocks.Lanes + (c & 15);

        /// <summary>A window origin's offset: output row <paramref name="row"/>, column <paramref name="column"/> of image <paramref name="image"/> of the group.</summary>
        public int Origin(int image, int row, int column) => image * Length + row * _rowStep + column * _columnStep;

        /// <summary>For each tap (channel, kernel row, kernel column), in the weights' order, its offset from a pixel's window origin.</summary>
        public int[] TapOffsets()
        {
            var offsets = new int[_g.WindowLength];
            int t = 0;
            for (int c = 0; c < _g.InChannels; c++)
                for (int i = 0; i < _g.KernelHeight; i++)
                    for (int j = 0; j < _g.KernelWidth; j++)
                        offsets[t++] = Offset(c, i * _g.DilationHeight * RowLength + j * _g.DilationWidth);
            return offsets;
        }

        /// <summary>
        /// Rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) of every plane: row r is input row r − PadTop,
        /// column q input column q − PadLeft; zeros outside the image. Each plane's rows are written once, margins
        /// included, by one <see cref="RowCopy"/> call (span calls per row cost more than the floats of 2×2 maps, and
        /// clearing the buffer before copying wrote the input twice).
        /// </summary>
        public void Fill(float* image, float* padded, int firstRow, int endRow)
        {
            // In channel blocks a row of a block is a row of 16-float pixels: the same copy, 16 times as wide.
            int top = Math.Clamp(_g.PadTop, firstRow, endRow), bottom = Math.Clamp(_g.PadTop + _g.InHeight, top, endRow), step = PixelStep;
            int planes = step == 1 ? _g.InChannels : ChannelBlocks.Count(_g.InChannels), rowLength = RowLength * step, width = _g.InWidth * step;
            for (int c = 0; c < planes; c++)
            {
                float* plane = padded + (long)c * Plane * step;
                new Span<float>(plane + (long)firstRow * rowLength, (top - firstRow) * rowLength).Clear();
                RowCopy.CopyPadded(image + ((long)c * _g.InHeight + top - _g.PadTop) * width, width, plane + (long)top * rowLength, rowLength,
                    bottom - top, rowLength, _g.PadLeft * step, width);
                new Span<float>(plane + (long)bottom * rowLength, (endRow - bottom) * rowLength).Clear();
            }
        }

        /// <summary>
        /// For an input plane of at most 16 pixels (ResNet's and SqueezeNet's 4×4 to 1×1 maps), each padded position's
        /// input pixel, or −1 in the padding, for <see cref="FillSmall"/>: whole vectors, rented; null for larger planes.
        /// </summary>
        public int[]? SmallPlanePixels()
        {
            if (_g.InPixels > 16) return null;
            int length = (Plane + 15) / 16 * 16;
            int[] pixels = TensorPool.RentInts(length);
            for (int q = 0; q < length; q++)
            {
                int r = q / RowLength - _g.PadTop, c = q % RowLength - _g.PadLeft;
                pixels[q] = q < Plane && r >= 0 && r < _g.InHeight && c >= 0 && c < _g.InWidth ? r * _g.InWidth + c : -1;
            }
            return pixels;
        }

        /// <summary>
        /// <see cref="Fill"/> of every row for planes of at most 16 pixels: each channel one masked load and, per 16
        /// padded floats, one permute through <paramref name="pixels"/> (<see cref="SmallPlanePixels"/>). Three span calls
        /// per channel were a third of a 64-channel conv on 2×2 maps at batch 32 (16 images × 64 channels a group).
        /// </summary>
        public void FillSmall(float* image, float* padded, int* pixels)
        {
            var lanes = Vector512<int>.Indices;
            var inside = Vector512.LessThan(lanes, Vector512.Create(_g.InPixels)).AsSingle();
            int plane = Plane;
            for (int c = 0; c < _g.InChannels; c++, image += _g.InPixels, padded += plane)
            {
                var values = Avx512F.MaskLoad(image, inside, Vector512<float>.Zero);
                for (int q = 0; q < plane; q += 16)
                {
                    var source = Vector512.Load(pixels + q);
                    var v = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(source, Vector512<int>.Zero).AsSingle(),
                        Avx512F.PermuteVar16x32(values, source & Vector512.Create(15)), Vector512<float>.Zero);
                    if (q + 16 <= plane) v.Store(padded + q);
                    else Avx512F.MaskStore(padded + q, Vector512.LessThan(lanes, Vector512.Create(plane - q)).AsSingle(), v);
                }
            }
        }

        /// <summary>The padded rows [first, end) that output rows [<paramref name="firstOutput"/>, <paramref name="lastOutput"/>] read.</summary>
        public (int First, int End) RowsRead(int firstOutput, int lastOutput) =>
            (firstOutput * _g.StrideHeight, lastOutput * _g.StrideHeight + (_g.KernelHeight - 1) * _g.DilationHeight + 1);
    }

    /// <summary>
    /// The tiles of one image group and one block of output channels: R consecutive output pixels (row-major, so a tile may
    /// span rows; or a position at a time across the group's images, see <see cref="_positionMajorImages"/>), each read
    /// through its own window origin, each tile running its kernel window's taps. The taps are walked in blocks whose packed weights
    /// fit L1 (<see cref="TapsPerBlock"/>), every tile of the rows through one block before the next, each tile's
    /// running sums kept in scratch between blocks: run tile by tile over all taps, the weights of a wide layer
    /// (64 channels × 576 taps, 147 KB) streamed from L2 for every tile.
    /// </summary>
    private readonly ref struct Tiles(ConvGeometry g, InputLayout layout, Packed packed, int block, bool blockedInput, float* sums, float* biasTile, float* padded,
        float* images, int firstChannel, int groupPixels, float low, float high, float* norm, int normStride, bool pool, float* residual, float* pixelMajor,
        bool blocked, int positionMajorImages)
    {
        /// <summary>Whether <see cref="_images"/> is in channel blocks (<see cref="ChannelBlocks"/>): pixel vectors stored whole.</summary>
        private readonly bool _blocked = blocked;
        /// <summary>Where outputs go pixel-major ([pixel][16·V]) for a fused pool other than 2×2 (null: to NCHW).</summary>
        private readonly float* _pixelMajor = pixelMajor;
        /// <summary>The group's shortcut, laid out as <see cref="_images"/> (null: none), added to each output before the clamp.</summary>
        private readonly float* _residual = residual;
        private readonly float* _norm = norm;
        private readonly int _normStride = normStride;
        private readonly bool _pool = pool;
        private readonly ConvGeometry _g = g;
        private readonly InputLayout _layout = layout;
        private readonly Packed _packed = packed;
        private readonly int _block = block;
        private readonly bool _blockedInput = blockedInput;
        /// <summary>The group's images where its pixels run a position at a time (pixel q: image q mod this, position q div this); 0: image after image.</summary>
        private readonly int _positionMajorImages = positionMajorImages;
        private readonly float* _sums = sums, _biasTile = biasTile, _padded = padded, _images = images;
        private readonly int _firstChannel = firstChannel, _groupPixels = groupPixels;
        private readonly float _low = low, _high = high;

        /// <summary>
        /// Whether the tiles of this block store their last pass's sums, clamped, straight from the registers (nothing
        /// else to apply) to where each pixel's vectors go whole: the pixel-major scratch of a fused pool, or the channel
        /// blocks where every channel of the tile is an output. Through the sums scratch and <see cref="Emit"/>, the
        /// stores were an eighth of SqueezeNet-style's time.
        /// </summary>
        private bool Direct(int vectors) =>
            !_pool && _norm == null && _residual == null
            && (_pixelMajor != null || _blocked && _firstChannel + 16 * vectors <= _g.OutChannels && ChannelBlocks.Length(_groupPixels / _g.OutPixels + 1, _g.OutChannels, _g.OutPixels) < int.MaxValue);

        /// <summary>Where <see cref="Direct"/> stores go: the pixel-major scratch, or the channel blocks.</summary>
        private float* DirectOutputs => _pixelMajor != null ? _pixelMajor : _images;

        /// <summary>Floats between a pixel's vectors where <see cref="Direct"/> stores them: adjacent pixel-major, a plane apart in blocks.</summary>
        private long DirectStep => _pixelMajor != null ? ChannelBlocks.Lanes : (long)_g.OutPixels * ChannelBlocks.Lanes;

        /// <summary>
        /// Output pixels [<paramref name="first"/>, <paramref name="end"/>) of this block, numbered image after image of the
        /// group, row-major within each (or a position at a time), a tile at a time. <paramref name="originOffsets"/> has room
        /// for twice the pixels and a tile's more: each pixel's window origin, where the tiles store directly
        /// (<see cref="Direct"/>) its place in the output, and each tile's kernel window (<see cref="Packed.WindowKey"/>).
        /// </summary>
        public void Run(int vectors, int first, int end, int* originOffsets)
        {
            int pixels = PixelsPerTile(vectors), block = TapsPerBlock(vectors), tiles = (end - first + pixels - 1) / pixels;
            bool direct = Direct(vectors);
            int* outputOffsets = originOffsets + tiles * pixels, windowKeys = outputOffsets + tiles * pixels;
            // Every tile's window origins, walked once rather than found once per block of taps (two divisions a pixel
            // were a tenth of a 64-channel 14×14 conv), and the kernel window its pixels read inside the input. A tile's
            // pixels may span rows and images (a 2×2 map is one tile of 4); past the group's end they repeat its last pixel.
            if (_positionMajorImages > 0) WalkPositions(vectors, first, end, direct, originOffsets, outputOffsets, windowKeys);
            else
            {
                if (_pool) PoolWindowOrigins(first, first + tiles * pixels, originOffsets);
                else WalkImages(vectors, first, end, direct, originOffsets, outputOffsets);
                new Span<int>(windowKeys, tiles).Fill(_packed.FullWindow);
            }
            float** origins = stackalloc float*[8];
            float** outputs = stackalloc float*[8];
            for (int t0 = 0; t0 < _packed.LiveTaps[_block]; t0 += block)
            {
                float* sums = _sums;
                int* offsets = originOffsets, places = outputOffsets;
                int window = -1, live = 0;
                float* weights = null;
                int* tapOffsets = null;
                for (int p = first, tile = 0; p < end; p += pixels, sums += SumsLength, offsets += pixels, places += pixels, tile++)
                {
                    if (windowKeys[tile] != window)
                    {
                        // Tiles of one window follow each other: its taps are looked up once per run of them.
                        window = windowKeys[tile];
                        var taps = _packed.Window(window);
                        live = taps.Live[_block];
                        weights = taps.WeightsOf(_block);
                        tapOffsets = taps.OffsetsOf(_block, _blockedInput);
                    }
                    if (t0 >= live) continue;
                    int t1 = Math.Min(live, t0 + block);
                    bool stores = direct && t1 == live;
                    for (int r = 0; r < pixels; r++) origins[r] = _padded + offsets[r];
                    if (stores)
                        for (int r = 0; r < pixels; r++) outputs[r] = DirectOutputs + places[r];
                    // The first block starts from the bias (replicated per pixel), later ones from the sums so far.
                    float* init = t0 == 0 ? _biasTile : sums;
                    switch (vectors)
                    {
                        case 4: Tile64By4(origins, init, sums, weights, tapOffsets, t0, t1, stores ? outputs : null); break;
                        case 2: Tile32By8(origins, init, sums, weights, tapOffsets, t0, t1, stores ? outputs : null); break;
                        default: Tile16By8(origins, init, sums, weights, tapOffsets, t0, t1, stores ? outputs : null); break;
                    }
                    if (t1 == live && !stores) Emit(vectors, pixels, sums, p);
                }
            }
        }

        /// <summary>
        /// Pixels [<paramref name="first"/>, <paramref name="end"/>) of the group, image after image, in tiles: each one's
        /// window origin and its place in the output where tiles store directly (<see cref="Direct"/>).
        /// </summary>
        private void WalkImages(int vectors, int first, int end, bool direct, int* originOffsets, int* outputOffsets)
        {
            int pixels = PixelsPerTile(vectors);
            int image = first / _g.OutPixels, row = first % _g.OutPixels / _g.OutWidth, column = first % _g.OutWidth, origin = 0, output = 0;
            for (int q = first, i = 0; q < end; q += pixels)
                for (int r = 0; r < pixels; r++, i++)
                {
                    // Past the group's end a pixel repeats the last, whose values a direct store then writes again.
                    if (q + r < _groupPixels)
                    {
                        origin = _layout.Origin(image, row, column);
                        if (direct) output = _pixelMajor != null ? (q + r) * vectors * ChannelBlocks.Lanes
                            : (int)ChannelBlocks.Offset(image, _firstChannel, row * _g.OutWidth + column, _g.OutChannels, _g.OutPixels);
                        if (++column == _g.OutWidth) (column, row) = (0, row + 1);
                        if (row == _g.OutHeight) (row, image) = (0, image + 1);
                    }
                    originOffsets[i] = origin;
                    outputOffsets[i] = output;
                }
        }

        /// <summary>
        /// <see cref="WalkImages"/> a position at a time (<see cref="_positionMajorImages"/>, in the order of
        /// <see cref="Packed.Positions"/>), and each tile's kernel window (<see cref="Packed.WindowKey"/>): the bounds of its
        /// pixels' windows inside the input. Only channel blocks and a fused pool's pixel-major outputs are stored to, each
        /// pixel in its image's place.
        /// </summary>
        private void WalkPositions(int vectors, int first, int end, bool direct, int* originOffsets, int* outputOffsets, int* windowKeys)
        {
            int pixels = PixelsPerTile(vectors), count = _positionMajorImages;
            // Image and position of pixel q, stepped rather than divided.
            int image = first % count, step = first / count, position = _packed.Positions[Math.Min(step, _g.OutPixels - 1)];
            int row = position / _g.OutWidth, column = position % _g.OutWidth, origin = 0, output = 0;
            (int First, int End) rowWindow = default, columnWindow = default;
            for (int q = first, i = 0, tile = 0; q < end; q += pixels, tile++)
            {
                (int First, int End) rows = (int.MaxValue, 0), columns = (int.MaxValue, 0);
                for (int r = 0; r < pixels; r++, i++)
                {
                    // Past the group's end a pixel repeats the last, whose values a direct store then writes again.
                    if (q + r < _groupPixels)
                    {
                        origin = _layout.Origin(image, row, column);
                        if (direct) output = _pixelMajor != null ? (image * _g.OutPixels + position) * vectors * ChannelBlocks.Lanes
                            : (int)ChannelBlocks.Offset(image, _firstChannel, position, _g.OutChannels, _g.OutPixels);
                        (rowWindow, columnWindow) = (_packed.RowWindows[row], _packed.ColumnWindows[column]);
                        if (++image == count && ++step < _g.OutPixels)
                        {
                            position = _packed.Positions[step];
                            (image, row, column) = (0, position / _g.OutWidth, position % _g.OutWidth);
                        }
                    }
                    originOffsets[i] = origin;
                    outputOffsets[i] = output;
                    rows = (Math.Min(rows.First, rowWindow.First), Math.Max(rows.End, rowWindow.End));
                    columns = (Math.Min(columns.First, columnWindow.First), Math.Max(columns.End, columnWindow.End));
                }
                windowKeys[tile] = _packed.WindowKey(rows, columns);
            }
        }

        /// <summary>
        /// With a pool, pixel 4w + k is pixel k, in row-major order, of pool window w (numbered image after image, row-major
        /// within each): every 4 pixels a tile stores are one window. Past the group's end (a tile of 8 pixels holding its
        /// last window) they repeat its last pixel, as without a pool. The windows are stepped, not divided out: three
        /// divisions a pixel were 4 % of cnn-bn's time at batch 1.
        /// </summary>
        private void PoolWindowOrigins(int first, int end, int* originOffsets)
        {
            int windowsWide = _g.OutWidth / 2, windowsHigh = _g.OutHeight / 2, windows = windowsWide * windowsHigh;
            int at = Math.Min(first, _groupPixels - 1), window = at / 4, corner = at % 4, image = window / windows;
            int row = window % windows / windowsWide, column = window % windowsWide, origin = 0;
            for (int q = first, i = 0; q < end; q++, i++)
            {
                if (q < _groupPixels || i == 0)
                {
                    origin = _layout.Origin(image, 2 * row + (corner >> 1), 2 * column + (corner & 1));
                    if (++corner == 4 && ++column == windowsWide && ++row == windowsHigh) (row, image) = (0, image + 1);
                    if (corner == 4) corner = 0;
                    if (column == windowsWide) column = 0;
                }
                originOffsets[i] = origin;
            }
        }

        // One method per tile shape, each a single loop with no branches and no call while its accumulators live:
        // accumulators defined under a (constant) condition, in nested loops, or live across a call were spilled to
        // the stack after every multiply-add.

        /// <summary>
        /// 64 output channels × 4 pixels: 16 accumulators, 4 weight loads and 4 broadcasts per tap; the sums to
        /// <paramref name="sums"/>, or clamped to pixel r's 4 vectors from <paramref name="outputs"/>[r] (see <see cref="Direct"/>).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Tile64By4(float** origins, float* init, float* sums, float* weights, int* offsets, int first, int end, float** outputs)
        {
            float* o0 = origins[0], o1 = origins[1], o2 = origins[2], o3 = origins[3];
            float* w = weights + (long)first * 64;
            Vector512<float> a00 = Vector512.Load(init + 0), a01 = Vector512.Load(init + 16), a02 = Vector512.Load(init + 32), a03 = Vector512.Load(init + 48);
            Vector512<float> a10 = Vector512.Load(init + 64), a11 = Vector512.Load(init + 80), a12 = Vector512.Load(init + 96), a13 = Vector512.Load(init + 112);
            Vector512<float> a20 = Vector512.Load(init + 128), a21 = Vector512.Load(init + 144), a22 = Vector512.Load(init + 160), a23 = Vector512.Load(init + 176);
            Vector512<float> a30 = Vector512.Load(init + 192), a31 = Vector512.Load(init + 208), a32 = Vector512.Load(init + 224), a33 = Vector512.Load(init + 240);
            for (int t = first; t < end; t++, w += 64)
            {
                nint at = offsets[t];
                var x0 = Vector512.Create(o0[at]);
                var x1 = Vector512.Create(o1[at]);
                var x2 = Vector512.Create(o2[at]);
                var x3 = Vector512.Create(o3[at]);
                var w0 = Vector512.Load(w);
                a00 = Avx512F.FusedMultiplyAdd(w0, x0, a00);
                a01 = Avx512F.FusedMultiplyAdd(w0, x1, a01);
                a02 = Avx512F.FusedMultiplyAdd(w0, x2, a02);
                a03 = Avx512F.FusedMultiplyAdd(w0, x3, a03);
                var w1 = Vector512.Load(w + 16);
                a10 = Avx512F.FusedMultiplyAdd(w1, x0, a10);
                a11 = Avx512F.FusedMultiplyAdd(w1, x1, a11);
                a12 = Avx512F.FusedMultiplyAdd(w1, x2, a12);
                a13 = Avx512F.FusedMultiplyAdd(w1, x3, a13);
                var w2 = Vector512.Load(w + 32);
                a20 = Avx512F.FusedMultiplyAdd(w2, x0, a20);
                a21 = Avx512F.FusedMultiplyAdd(w2, x1, a21);
                a22 = Avx512F.FusedMultiplyAdd(w2, x2, a22);
                a23 = Avx512F.FusedMultiplyAdd(w2, x3, a23);
                var w3 = Vector512.Load(w + 48);
                a30 = Avx512F.FusedMultiplyAdd(w3, x0, a30);
                a31 = Avx512F.FusedMultiplyAdd(w3, x1, a31);
                a32 = Avx512F.FusedMultiplyAdd(w3, x2, a32);
                a33 = Avx512F.FusedMultiplyAdd(w3, x3, a33);
            }
            if (outputs != null)
            {
                long step = DirectStep;
                float* d0 = outputs[0], d1 = outputs[1], d2 = outputs[2], d3 = outputs[3];
                V512.Clamp(a00, _low, _high).Store(d0);
                V512.Clamp(a10, _low, _high).Store(d0 + step);
                V512.Clamp(a20, _low, _high).Store(d0 + 2 * step);
                V512.Clamp(a30, _low, _high).Store(d0 + 3 * step);
                V512.Clamp(a01, _low, _high).Store(d1);
                V512.Clamp(a11, _low, _high).Store(d1 + step);
                V512.Clamp(a21, _low, _high).Store(d1 + 2 * step);
                V512.Clamp(a31, _low, _high).Store(d1 + 3 * step);
                V512.Clamp(a02, _low, _high).Store(d2);
                V512.Clamp(a12, _low, _high).Store(d2 + step);
                V512.Clamp(a22, _low, _high).Store(d2 + 2 * step);
                V512.Clamp(a32, _low, _high).Store(d2 + 3 * step);
                V512.Clamp(a03, _low, _high).Store(d3);
                V512.Clamp(a13, _low, _high).Store(d3 + step);
                V512.Clamp(a23, _low, _high).Store(d3 + 2 * step);
                V512.Clamp(a33, _low, _high).Store(d3 + 3 * step);
                return;
            }
            a00.Store(sums + 0);
            a01.Store(sums + 16);
            a02.Store(sums + 32);
            a03.Store(sums + 48);
            a10.Store(sums + 64);
            a11.Store(sums + 80);
            a12.Store(sums + 96);
            a13.Store(sums + 112);
            a20.Store(sums + 128);
            a21.Store(sums + 144);
            a22.Store(sums + 160);
            a23.Store(sums + 176);
            a30.Store(sums + 192);
            a31.Store(sums + 208);
            a32.Store(sums + 224);
            a33.Store(sums + 240);
        }

        /// <summary>32 output channels × 8 pixels: 16 accumulators, 2 weight loads and 8 broadcasts per tap; the sums stored as <see cref="Tile64By4"/>'s.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Tile32By8(float** origins, float* init, float* sums, float* weights, int* offsets, int first, int end, float** outputs)
        {
            float* o0 = origins[0], o1 = origins[1], o2 = origins[2], o3 = origins[3], o4 = origins[4], o5 = origins[5], o6 = origins[6], o7 = origins[7];
            float* w = weights + (long)first * 32;
            Vector512<float> a00 = Vector512.Load(init + 0), a01 = Vector512.Load(init + 16), a02 = Vector512.Load(init + 32), a03 = Vector512.Load(init + 48);
            Vector512<float> a04 = Vector512.Load(init + 64), a05 = Vector512.Load(init + 80), a06 = Vector512.Load(init + 96), a07 = Vector512.Load(init + 112);
            Vector512<float> a10 = Vector512.Load(init + 128), a11 = Vector512.Load(init + 144), a12 = Vector512.Load(init + 160), a13 = Vector512.Load(init + 176);
            Vector512<float> a14 = Vector512.Load(init + 192), a15 = Vector512.Load(init + 208), a16 = Vector512.Load(init + 224), a17 = Vector512.Load(init + 240);
            for (int t = first; t < end; t++, w += 32)
            {
                nint at = offsets[t];
                var w0 = Vector512.Load(w);
                var w1 = Vector512.Load(w + 16);
                var x = Vector512.Create(o0[at]);
                a00 = Avx512F.FusedMultiplyAdd(w0, x, a00);
                a10 = Avx512F.FusedMultiplyAdd(w1, x, a10);
                x = Vector512.Create(o1[at]);
                a01 = Avx512F.FusedMultiplyAdd(w0, x, a01);
                a11 = Avx512F.FusedMultiplyAdd(w1, x, a11);
                x = Vector512.Create(o2[at]);
                a02 = Avx512F.FusedMultiplyAdd(w0, x, a02);
                a12 = Avx512F.FusedMultiplyAdd(w1, x, a12);
                x = Vector512.Create(o3[at]);
                a03 = Avx512F.FusedMultiplyAdd(w0, x, a03);
                a13 = Avx512F.FusedMultiplyAdd(w1, x, a13);
                x = Vector512.Create(o4[at]);
                a04 = Avx512F.FusedMultiplyAdd(w0, x, a04);
                a14 = Avx512F.FusedMultiplyAdd(w1, x, a14);
                x = Vector512.Create(o5[at]);
                a05 = Avx512F.FusedMultiplyAdd(w0, x, a05);
                a15 = Avx512F.FusedMultiplyAdd(w1, x, a15);
                x = Vector512.Create(o6[at]);
                a06 = Avx512F.FusedMultiplyAdd(w0, x, a06);
                a16 = Avx512F.FusedMultiplyAdd(w1, x, a16);
                x = Vector512.Create(o7[at]);
                a07 = Avx512F.FusedMultiplyAdd(w0, x, a07);
                a17 = Avx512F.FusedMultiplyAdd(w1, x, a17);
            }
            if (outputs != null)
            {
                long step = DirectStep;
                V512.Clamp(a00, _low, _high).Store(outputs[0]);
                V512.Clamp(a10, _low, _high).Store(outputs[0] + step);
                V512.Clamp(a01, _low, _high).Store(outputs[1]);
                V512.Clamp(a11, _low, _high).Store(outputs[1] + step);
                V512.Clamp(a02, _low, _high).Store(outputs[2]);
                V512.Clamp(a12, _low, _high).Store(outputs[2] + step);
                V512.Clamp(a03, _low, _high).Store(outputs[3]);
                V512.Clamp(a13, _low, _high).Store(outputs[3] + step);
                V512.Clamp(a04, _low, _high).Store(outputs[4]);
                V512.Clamp(a14, _low, _high).Store(outputs[4] + step);
                V512.Clamp(a05, _low, _high).Store(outputs[5]);
                V512.Clamp(a15, _low, _high).Store(outputs[5] + step);
                V512.Clamp(a06, _low, _high).Store(outputs[6]);
                V512.Clamp(a16, _low, _high).Store(outputs[6] + step);
                V512.Clamp(a07, _low, _high).Store(outputs[7]);
                V512.Clamp(a17, _low, _high).Store(outputs[7] + step);
                return;
            }
            a00.Store(sums + 0);
            a01.Store(sums + 16);
            a02.Store(sums + 32);
            a03.Store(sums + 48);
            a04.Store(sums + 64);
            a05.Store(sums + 80);
            a06.Store(sums + 96);
            a07.Store(sums + 112);
            a10.Store(sums + 128);
            a11.Store(sums + 144);
            a12.Store(sums + 160);
            a13.Store(sums + 176);
            a14.Store(sums + 192);
            a15.Store(sums + 208);
            a16.Store(sums + 224);
            a17.Store(sums + 240);
        }

        /// <summary>16 output channels × 8 pixels: 8 accumulators, enough to cover the multiply-add latency; the sums stored as <see cref="Tile64By4"/>'s.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Tile16By8(float** origins, float* init, float* sums, float* weights, int* offsets, int first, int end, float** outputs)
        {
            float* o0 = origins[0], o1 = origins[1], o2 = origins[2], o3 = origins[3], o4 = origins[4], o5 = origins[5], o6 = origins[6], o7 = origins[7];
            float* w = weights + (long)first * 16;
            Vector512<float> a00 = Vector512.Load(init + 0), a01 = Vector512.Load(init + 16), a02 = Vector512.Load(init + 32), a03 = Vector512.Load(init + 48), a04 = Vector512.Load(init + 64), a05 = Vector512.Load(init + 80), a06 = Vector512.Load(init + 96), a07 = Vector512.Load(init + 112);
            for (int t = first; t < end; t++, w += 16)
            {
                nint at = offsets[t];
                var x0 = Vector512.Create(o0[at]);
                var x1 = Vector512.Create(o1[at]);
                var x2 = Vector512.Create(o2[at]);
                var x3 = Vector512.Create(o3[at]);
                var x4 = Vector512.Create(o4[at]);
                var x5 = Vector512.Create(o5[at]);
                var x6 = Vector512.Create(o6[at]);
                var x7 = Vector512.Create(o7[at]);
                var w0 = Vector512.Load(w);
                a00 = Avx512F.FusedMultiplyAdd(w0, x0, a00);
                a01 = Avx512F.FusedMultiplyAdd(w0, x1, a01);
                a02 = Avx512F.FusedMultiplyAdd(w0, x2, a02);
                a03 = Avx512F.FusedMultiplyAdd(w0, x3, a03);
                a04 = Avx512F.FusedMultiplyAdd(w0, x4, a04);
                a05 = Avx512F.FusedMultiplyAdd(w0, x5, a05);
                a06 = Avx512F.FusedMultiplyAdd(w0, x6, a06);
                a07 = Avx512F.FusedMultiplyAdd(w0, x7, a07);
            }
            if (outputs != null)
            {
                V512.Clamp(a00, _low, _high).Store(outputs[0]);
                V512.Clamp(a01, _low, _high).Store(outputs[1]);
                V512.Clamp(a02, _low, _high).Store(outputs[2]);
                V512.Clamp(a03, _low, _high).Store(outputs[3]);
                V512.Clamp(a04, _low, _high).Store(outputs[4]);
                V512.Clamp(a05, _low, _high).Store(outputs[5]);
                V512.Clamp(a06, _low, _high).Store(outputs[6]);
                V512.Clamp(a07, _low, _high).Store(outputs[7]);
                return;
            }
            a00.Store(sums + 0);
            a01.Store(sums + 16);
            a02.Store(sums + 32);
            a03.Store(sums + 48);
            a04.Store(sums + 64);
            a05.Store(sums + 80);
            a06.Store(sums + 96);
            a07.Store(sums + 112);
        }

        /// <summary>A tile's sums (<paramref name="vectors"/> × <paramref name="pixels"/> vectors of 16 channels) → y, clamped, four pixels at a time.</summary>
        private void Emit(int vectors, int pixels, float* sums, int pixel)
        {
            for (int v = 0; v < vectors; v++)
                for (int r = 0; r < pixels; r += 4)
                {
                    float* four = sums + (v * pixels + r) * 16;
                    if (_pixelMajor is not null) StorePixelMajor(four, vectors, 16 * v, pixel + r);
                    else if (_blocked && !_pool) StoreBlocked(four, 16 * v, pixel + r);
                    else Store(Vector512.Load(four), Vector512.Load(four + 16), Vector512.Load(four + 32), Vector512.Load(four + 48), 16 * v, pixel + r);
                }
        }

        /// <summary>The batch norm's mean, scale and shift for the 16 channels from <paramref name="lane0"/> in the block.</summary>
        private (Vector512<float> Mean, Vector512<float> Scale, Vector512<float> Shift) NormAt(int lane0)
        {
            int at = _firstChannel + lane0;
            return (Vector512.Load(_norm + at), Vector512.Load(_norm + _normStride + at), Vector512.Load(_norm + 2 * _normStride + at));
        }

        /// <summary>
        /// Four pixels' sums for 16 channels (from <paramref name="lane0"/> in the block), normalised and clamped, each a
        /// vector to its place in the channel blocks: no transpose, and in order. A block past O is not stored.
        /// </summary>
        private void StoreBlocked(float* four, int lane0, int pixel)
        {
            int channel0 = _firstChannel + lane0;
            if (channel0 >= _g.OutChannels) return;
            var (mean, scale, shift) = _norm is null ? default : NormAt(lane0);
            for (int k = 0; k < 4 && pixel + k < _groupPixels; k++)
            {
                var (image, inPlane) = Place(pixel + k);
                var v = Vector512.Load(four + 16 * k);
                if (_norm is not null) v = (v - mean) * scale + shift;
                V512.Clamp(v, _low, _high).Store(_images + ChannelBlocks.Offset(image, channel0, inPlane, _g.OutChannels, _g.OutPixels));
            }
        }

        /// <summary>The image of the group and the pixel in its plane that tile pixel <paramref name="q"/> is (see <see cref="_positionMajorImages"/>).</summary>
        private (int Image, int InPlane) Place(int q) =>
            _positionMajorImages > 0 ? (q % _positionMajorImages, _packed.Positions[q / _positionMajorImages]) : (q / _g.OutPixels, q % _g.OutPixels);

        /// <summary>Four pixels' sums for 16 channels, normalised and clamped, each to its pixel's place in the pixel-major outputs (no transpose).</summary>
        private void StorePixelMajor(float* four, int vectors, int lane0, int pixel)
        {
            var (mean, scale, shift) = _norm is null ? default : NormAt(lane0);
            for (int k = 0; k < 4 && pixel + k < _groupPixels; k++)
            {
                var (image, inPlane) = Place(pixel + k);
                var v = Vector512.Load(four + 16 * k);
                if (_norm is not null) v = (v - mean) * scale + shift;
                V512.Clamp(v, _low, _high).Store(_pixelMajor + ((long)image * _g.OutPixels + inPlane) * 16 * vectors + lane0);
            }
        }

        /// <summary>
        /// Four consecutive pixels' sums for 16 output channels (from <paramref name="lane0"/> in the block) → each
        /// channel's four pixels, contiguous in NCHW: a 4×4 transpose within each 128-bit lane, then one 4-float store
        /// per channel (after the residual, if any, is added). Channels past O and pixels past the plane go through a scalar copy.
        /// </summary>
        private void Store(Vector512<float> p0, Vector512<float> p1, Vector512<float> p2, Vector512<float> p3, int lane0, int pixel)
        {
            if (_norm is not null)
            {
                // The batch norm as the separate op computes it, (v − mean)·scale + shift, for the 16 channels of the lanes.
                var (mean, scale, shift) = NormAt(lane0);
                p0 = (p0 - mean) * scale + shift;
                p1 = (p1 - mean) * scale + shift;
                p2 = (p2 - mean) * scale + shift;
                p3 = (p3 - mean) * scale + shift;
            }
            if (_pool)
            {
                StoreWindow(V512.Clamp(p0, _low, _high), V512.Clamp(p1, _low, _high), V512.Clamp(p2, _low, _high), V512.Clamp(p3, _low, _high), lane0, pixel);
                return;
            }
            int channel0 = _firstChannel + lane0, pixelsPerChannel = _g.OutPixels;
            int inPlane = pixel % pixelsPerChannel;
            if (inPlane + 4 > pixelsPerChannel || pixel + 4 > _groupPixels || channel0 + 16 > _g.OutChannels)
            {
                StorePartial(p0, p1, p2, p3, channel0, pixel);
                return;
            }
            // Per 128-bit lane k (channels 4k…4k+3): t_i = channel 4k + i's four pixels.
            var lo01 = Avx512F.UnpackLow(p0, p1);
            var lo23 = Avx512F.UnpackLow(p2, p3);
            var hi01 = Avx512F.UnpackHigh(p0, p1);
            var hi23 = Avx512F.UnpackHigh(p2, p3);
            var t0 = Avx512F.Shuffle(lo01, lo23, 0x44);
            var t1 = Avx512F.Shuffle(lo01, lo23, 0xEE);
            var t2 = Avx512F.Shuffle(hi01, hi23, 0x44);
            var t3 = Avx512F.Shuffle(hi01, hi23, 0xEE);
            long offset = OutputOffset(channel0, pixel), step = pixelsPerChannel;
            if (_residual is not null)
            {
                // Each output plus its shortcut, as the separate Add computes it, before the clamp (the separate ReLU).
                t0 += LoadLanes(_residual + offset, step);
                t1 += LoadLanes(_residual + offset + step, step);
                t2 += LoadLanes(_residual + offset + 2 * step, step);
                t3 += LoadLanes(_residual + offset + 3 * step, step);
            }
            float* target = _images + offset;
            StoreLanes(V512.Clamp(t0, _low, _high), target, step);
            StoreLanes(V512.Clamp(t1, _low, _high), target + step, step);
            StoreLanes(V512.Clamp(t2, _low, _high), target + 2 * step, step);
            StoreLanes(V512.Clamp(t3, _low, _high), target + 3 * step, step);
        }

        /// <summary>The inverse of <see cref="StoreLanes"/>: 128-bit lane k from <paramref name="source"/> + 4k channels.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> LoadLanes(float* source, long channelStride) =>
            Vector512.Create(Vector256.Create(Vector128.Load(source), Vector128.Load(source + 4 * channelStride)),
                Vector256.Create(Vector128.Load(source + 8 * channelStride), Vector128.Load(source + 12 * channelStride)));

        /// <summary>
        /// One pool window's four pixels (row-major) for 16 channels → each channel's pooled output: the first pixel, then
        /// each later one that is greater or NaN, as the separate max pool takes them.
        /// </summary>
        private void StoreWindow(Vector512<float> p0, Vector512<float> p1, Vector512<float> p2, Vector512<float> p3, int lane0, int pixel)
        {
            if (pixel >= _groupPixels) return;
            var best = SeparableMaxPool.Winner(SeparableMaxPool.Winner(SeparableMaxPool.Winner(p0, p1), p2), p3);
            int channel0 = _firstChannel + lane0, windows = PoolWindows(_g), window = pixel / 4;
            int channels = Math.Min(16, _g.OutChannels - channel0);
            if (_blocked)
            {
                if (channels > 0)
                    best.Store(_images + ChannelBlocks.Offset(window / windows, channel0, window % windows, _g.OutChannels, windows));
                return;
            }
            float* target = _images + ((long)(window / windows) * _g.OutChannels + channel0) * windows + window % windows;
            // The lanes through memory, once: GetElement with a varying lane went through the stack for each lane, and
            // those 16 round trips a window were a sixth of cnn-bn's pooled convs at batch 1.
            float* lanes = stackalloc float[16];
            best.Store(lanes);
            for (int l = 0; l < channels; l++) target[(long)l * windows] = lanes[l];
        }

        /// <summary>128-bit lane k of <paramref name="t"/> (4 pixels of channel 4k + i) → <paramref name="target"/> + 4k channels.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreLanes(Vector512<float> t, float* target, long channelStride)
        {
            // One extract-to-memory each (halving to 256 and then 128 bits cost three moves and extracts more).
            t.GetLower().GetLower().Store(target);
            Avx512F.ExtractVector128(t, 1).Store(target + 4 * channelStride);
            Avx512F.ExtractVector128(t, 2).Store(target + 8 * channelStride);
            Avx512F.ExtractVector128(t, 3).Store(target + 12 * channelStride);
        }

        /// <summary>The tile's pixels one by one (they may cross into the next image, or past the group's end), channels below O only.</summary>
        private void StorePartial(Vector512<float> p0, Vector512<float> p1, Vector512<float> p2, Vector512<float> p3, int channel0, int pixel)
        {
            float* sums = stackalloc float[64];
            p0.Store(sums);
            p1.Store(sums + 16);
            p2.Store(sums + 32);
            p3.Store(sums + 48);
            int channels = Math.Min(16, _g.OutChannels - channel0), count = Math.Min(4, _groupPixels - pixel);
            for (int p = 0; p < count; p++)
            {
                long at = OutputOffset(channel0, pixel + p);
                float* sum = sums + p * 16;
                if (_residual is not null)
                    for (int l = 0; l < channels; l++) sum[l] += _residual[at + (long)l * _g.OutPixels];
                V512.Clamp(Vector512.Load(sum), _low, _high).Store(sum);
                for (int l = 0; l < channels; l++) _images[at + (long)l * _g.OutPixels] = sum[l];
            }
        }

        /// <summary>Where channel <paramref name="channel"/>'s output for the group's pixel <paramref name="pixel"/> lies, from the group's first image.</summary>
        private long OutputOffset(int channel, int pixel) => ((long)(pixel / _g.OutPixels) * _g.OutChannels + channel) * _g.OutPixels + pixel % _g.OutPixels;
    }
}
