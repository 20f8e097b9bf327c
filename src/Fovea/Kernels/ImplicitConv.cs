using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Fovea.Kernels;

/// <summary>
/// A stride-1, ungrouped convolution as an implicit GEMM over a <see cref="WideConv"/> layout: the
/// GEMM micro-kernel multiplies packed weights by the padded image read in place, so no im2col matrix
/// is built and B is never packed. Small convolutions (M = 16…64 output channels) spent most of their
/// time writing, packing and re-reading im2col matrices; here the image is copied once, padded.
/// The same plan runs the input gradient, because a stride-1 transposed convolution is a convolution
/// of the padded output gradient with the weights transposed and flipped.
/// Prepared once (weights packed, tap offsets computed; forward plans are kept per weight tensor by ConvPlans), then run image by image.
/// </summary>
internal sealed unsafe class ImplicitConv : IDisposable
{
    /// <summary>
    /// Most taps in one pass of the micro-kernel: the 32-column B window of 576 taps of a 3×3 kernel (three
    /// taps share each cache line) stays in L1. Deeper products are cut into equal blocks, never a short tail.
    /// </summary>
    private const int MaxDepthBlock = 576;

    private readonly GemmKernel _kernel;
    private readonly int _tileRows;
    private readonly float[] _packedWeights;
    private readonly int[] _offsets;
    private readonly WinogradConv? _winograd;

    /// <summary>Whether <paramref name="g"/> runs here: stride 1, one group, padding within the kernel's extent (so the input gradient is a convolution too).</summary>
    public static bool Supports(ConvGeometry g)
    {
        int extentH = (g.KernelHeight - 1) * g.DilationHeight, extentW = (g.KernelWidth - 1) * g.DilationWidth;
        return g.Groups == 1 && g.StrideHeight == 1 && g.StrideWidth == 1
            && g.PadTop <= extentH && g.PadBottom <= extentH && g.PadLeft <= extentW && g.PadRight <= extentW;
    }

    /// <summary>The forward product: y[n] = W · im2col(x[n]) for weights [O, C, kH, kW].</summary>
    /// <remarks>
    /// 3×3 convolutions with many channels run by Winograd F(2×2, 3×3) where it pays (<see cref="WinogradConv.Pays"/>);
    /// <paramref name="winograd"/> overrides that choice (tests), where the geometry allows it at all.
    /// </remarks>
    public static ImplicitConv ForOutput(ConvGeometry g, ReadOnlySpan<float> weight, GemmKernel kernel, bool? winograd = null)
    {
        var wide = new WideConv(g.InChannels, g.InHeight, g.InWidth, (g.KernelHeight, g.KernelWidth), (g.DilationHeight, g.DilationWidth),
            g.PadTop, g.PadBottom, g.PadLeft, g.PadRight, TileCols(kernel));
        return new ImplicitConv(kernel, wide, g.OutChannels, weight, WinogradConv.Supports(g, kernel) && (winograd ?? WinogradConv.Pays(g)) ? new WinogradConv(g, weight) : null);
    }

    /// <summary>
    /// The input gradient: dx[n] = W' · im2col(dy[n]), dy padded by (extent − padding) on each side and
    /// W'[c, o, ki, kj] = W[o, c, kH − 1 − ki, kW − 1 − kj]. That is itself a stride-1 convolution, so with many
    /// channels it runs by Winograd where it pays, as the forward does (<paramref name="winograd"/> overrides, for tests).
    /// </summary>
    public static ImplicitConv ForInputGradient(ConvGeometry g, ReadOnlySpan<float> weight, GemmKernel kernel, bool? winograd = null)
    {
        int kh = g.KernelHeight, kw = g.KernelWidth, extentH = (kh - 1) * g.DilationHeight, extentW = (kw - 1) * g.DilationWidth;
        var wide = new WideConv(g.OutChannels, g.OutHeight, g.OutWidth, (kh, kw), (g.DilationHeight, g.DilationWidth),
            extentH - g.PadTop, extentH - g.PadBottom, extentW - g.PadLeft, extentW - g.PadRight, TileCols(kernel));
        int taps = kh * kw, inChannels = g.InChannels, outChannels = g.OutChannels;
        float[] flipped = TensorPool.Rent(inChannels * outChannels * taps);
        try
        {
            for (int c = 0; c < inChannels; c++)
                for (int o = 0; o < outChannels; o++)
                    for (int t = 0; t < taps; t++)
                        flipped[(c * outChannels + o) * taps + t] = weight[(o * inChannels + c) * taps + taps - 1 - t];
            var transposed = g with
            {
                InChannels = outChannels, InHeight = g.OutHeight, InWidth = g.OutWidth,
                OutChannels = inChannels, OutHeight = g.InHeight, OutWidth = g.InWidth,
                PadTop = extentH - g.PadTop, PadBottom = extentH - g.PadBottom, PadLeft = extentW - g.PadLeft, PadRight = extentW - g.PadRight,
            };
            var flippedWeights = flipped.AsSpan(0, inChannels * outChannels * taps);
            bool useWinograd = WinogradConv.Supports(transposed, kernel) && (winograd ?? WinogradConv.Pays(transposed));
            return new ImplicitConv(kernel, wide, inChannels, flippedWeights, useWinograd ? new WinogradConv(transposed, flippedWeights) : null);
        }
        finally
        {
            TensorPool.Return(flipped);
        }
    }

    /// <summary>With <paramref name="winograd"/> the products run there (it owns its packed weights), the padding and narrowing here.</summary>
    private ImplicitConv(GemmKernel kernel, WideConv wide, int rows, ReadOnlySpan<float> weights, WinogradConv? winograd = null)
    {
        _kernel = kernel;
        _tileRows = Gemm.TileRows(kernel);
        _winograd = winograd;
        Wide = wide;
        Rows = rows;
        int depth = wide.Depth;
        _packedWeights = winograd is null ? TensorPool.Rent(PaddedRows * depth) : [];
        _offsets = winograd is null ? TensorPool.RentInts(depth) : [];
        if (winograd is not null) return;
        wide.TapOffsets(_offsets);
        fixed (float* w = weights, packed = _packedWeights)
            GemmPacking.PackA(w, depth, false, 0, rows, 0, depth, _tileRows, packed);
    }

    public WideConv Wide { get; }

    /// <summary>Channels of the result (rows of the GEMM).</summary>
    public int Rows { get; }

    private int PaddedRows => (Rows + _tileRows - 1) / _tileRows * _tileRows;

    /// <summary>Floats of scratch one <see cref="Run"/> needs: the padded source and the wide result (and Winograd's, per thread with a split).</summary>
    public int ScratchLength(bool splitTiles) => Wide.PaddedLength + PaddedRows * Wide.WideStride + (_winograd?.ScratchLength(splitTiles) ?? 0);

    /// <summary>
    /// One image: <paramref name="source"/> [Channels, H, W] → <paramref name="target"/> [Rows, outH, outW],
    /// written as result + bias[row] (bias may be empty), or added to target when <paramref name="accumulate"/> is set.
    /// With <paramref name="splitTiles"/> the work is shared among threads, by row panels where there are enough of them,
    /// else by column tiles: for a batch smaller than the thread count (batch-1 latency), where splitting images would
    /// leave cores idle.
    /// A non-empty <paramref name="epilogue"/> (forward only, no accumulation) is applied as the result is narrowed.
    /// </summary>
    public void Run(ReadOnlySpan<float> source, Span<float> target, ReadOnlySpan<float> bias, bool accumulate, Span<float> scratch,
        bool splitTiles = false, ConvEpilogue epilogue = default)
    {
        if (accumulate && !epilogue.IsNone) throw new ArgumentException("ImplicitConv.Run: an epilogue cannot accumulate.");
        var padded = scratch[..Wide.PaddedLength];
        var wide = scratch.Slice(Wide.PaddedLength, PaddedRows * Wide.WideStride);
        if (_winograd is not null)
        {
            _winograd.Run(source, wide, Wide.WideStride, Wide.PaddedWidth, scratch[(Wide.PaddedLength + wide.Length)..], splitTiles);
            if (!splitTiles || Parallelism.Threads == 1)
            {
                Finish(wide, target, 0, Rows, bias, accumulate, epilogue);
                return;
            }
            fixed (float* pWide = wide, pTarget = target, pBias = bias)
                FinishInParallel(pWide, wide.Length, pTarget, target.Length, pBias, bias.Length, accumulate, epilogue);
            return;
        }
        Wide.Pad(source, padded);
        int tiles = Wide.WideStride / TileCols(_kernel), panels = PaddedRows / _tileRows, threads = Parallelism.Threads;
        fixed (float* pSource = padded, pWide = wide, pTarget = target, pBias = bias)
        {
            if (splitTiles && threads > 1 && panels >= MinPanelsPerThread * threads)
            {
                RunPanelsInParallel(pSource, pWide, pTarget, target.Length, pBias, bias.Length, accumulate, epilogue, tiles, panels);
                return;
            }
            if (splitTiles && Parallelism.ChunkCount(tiles) > 1)
            {
                MultiplyInParallel(pSource, pWide, tiles, panels);
                FinishInParallel(pWide, wide.Length, pTarget, target.Length, pBias, bias.Length, accumulate, epilogue);
                return;
            }
            Multiply(pSource, pWide, 0, tiles, 0, panels);
        }
        Finish(wide, target, 0, Rows, bias, accumulate, epilogue);
    }

    /// <summary>
    /// After a split by column tiles, each thread narrows its own share of the channels (a second fork): the narrowing,
    /// with a fused batch norm and pool, was a serial tail while the other thread waited. cnn-bn at batch 1, whose
    /// 32-channel 28×28 conv splits this way: 240–248 → 237–243 µs over six alternating runs.
    /// </summary>
    private void FinishInParallel(float* wide, int wideLength, float* target, int targetLength, float* bias, int biasLength, bool accumulate, ConvEpilogue epilogue)
    {
        nint w = (nint)wide, t = (nint)target, b = (nint)bias;
        Parallelism.For(Rows, (first, end) => Finish(new Span<float>((float*)w, wideLength), new Span<float>((float*)t, targetLength), first, end,
            new ReadOnlySpan<float>((float*)b, biasLength), accumulate, epilogue));
    }

    /// <summary>Floats of scratch <see cref="RunImages"/> needs for <paramref name="images"/> images.</summary>
    public int ScratchLengthFor(int images) => _winograd is null ? ScratchLength(splitTiles: false) : _winograd.ScratchLengthFor(images, PaddedRows * Wide.WideStride);

    /// <summary>
    /// <paramref name="images"/> images, one after the other in <paramref name="source"/> and <paramref name="target"/>:
    /// <see cref="Run"/> on each (no accumulation, on this thread), except that a Winograd plan runs its blocks of tile
    /// rows on across images (<see cref="WinogradConv.RunImages"/>), and so fills its products' column tiles: the same bits.
    /// </summary>
    public void RunImages(ReadOnlySpan<float> source, Span<float> target, int images, ReadOnlySpan<float> bias, Span<float> scratch, ConvEpilogue epilogue = default)
    {
        int inLength = Wide.Channels * Wide.Height * Wide.Width, outLength = Rows * epilogue.OutputPlane(Wide.OutHeight, Wide.OutWidth);
        if (source.Length < images * inLength || target.Length < images * outLength || scratch.Length < ScratchLengthFor(images))
            throw new ArgumentException("ImplicitConv.RunImages: buffers too short.");
        if (_winograd is null)
        {
            for (int n = 0; n < images; n++)
                Run(source.Slice(n * inLength, inLength), target.Slice(n * outLength, outLength), bias, accumulate: false, scratch, splitTiles: false, epilogue);
            return;
        }
        fixed (float* pTarget = target, pBias = bias)
        {
            nint t = (nint)pTarget, b = (nint)pBias;
            int biasLength = bias.Length;
            _winograd.RunImages(source, images, PaddedRows * Wide.WideStride, Wide.WideStride, Wide.PaddedWidth, scratch, (n, wide) =>
                Finish(wide, new Span<float>((float*)t + (long)n * outLength, outLength), 0, Rows, new ReadOnlySpan<float>((float*)b, biasLength), accumulate: false, epilogue));
        }
    }

    private void Finish(Span<float> wide, Span<float> target, int firstRow, int endRow, ReadOnlySpan<float> bias, bool accumulate, ConvEpilogue epilogue)
    {
        if (epilogue.IsNone) Wide.Narrow(wide, target, firstRow, endRow, bias, accumulate);
        else Wide.Narrow(wide, target, firstRow, endRow, bias, epilogue);
    }

    // Separate methods so that only split runs pay for the closures.
    private void MultiplyInParallel(float* source, float* wide, int tiles, int panels)
    {
        nint s = (nint)source, w = (nint)wide;
        Parallelism.For(tiles, (first, end) => Multiply((float*)s, (float*)w, first, end, 0, panels));
    }

    /// <summary>
    /// Row panels (output channels) per thread from which one image is split by panels rather than by column tiles: each
    /// B window then still feeds 4+ panels from L1 (with 2 panels a thread, 32 channels at 28×28 ran 1.3× slower than
    /// by tiles), and each thread narrows its own rows, so the narrowing runs in parallel too (64 channels at 14×14:
    /// 44 → 39 µs at batch 1 on two threads).
    /// </summary>
    private const int MinPanelsPerThread = 4;

    /// <summary>One image with each thread on its own row panels, every column tile, then narrowing its own rows: the same products in the same order as one thread's run, so the same bits.</summary>
    private void RunPanelsInParallel(float* source, float* wide, float* target, int targetLength, float* bias, int biasLength,
        bool accumulate, ConvEpilogue epilogue, int tiles, int panels)
    {
        nint s = (nint)source, w = (nint)wide, t = (nint)target, b = (nint)bias;
        int wideLength = PaddedRows * Wide.WideStride;
        Parallelism.For(panels, (first, end) =>
        {
            Multiply((float*)s, (float*)w, 0, tiles, first, end);
            Finish(new Span<float>((float*)w, wideLength), new Span<float>((float*)t, targetLength), first * _tileRows, Math.Min(end * _tileRows, Rows),
                new ReadOnlySpan<float>((float*)b, biasLength), accumulate, epilogue);
        });
    }

    private void Multiply(float* source, float* wide, int firstTile, int endTile, int firstPanel, int endPanel)
    {
        switch (_kernel)
        {
            case GemmKernel.Vector512: Multiply<Vector512<float>, V512>(source, wide, firstTile, endTile, firstPanel, endPanel); break;
            case GemmKernel.Vector256: Multiply<Vector256<float>, V256>(source, wide, firstTile, endTile, firstPanel, endPanel); break;
            default: Multiply<Vector128<float>, V128>(source, wide, firstTile, endTile, firstPanel, endPanel); break;
        }
    }

    // Column tiles outer: the B window of a tile (a few padded rows per channel) stays in L1 while every
    // row panel of the weights streams past it from L2.
    // Never inlined: with dynamic PGO trained on whole batches, the JIT inlined this loop nest into the batch-1 tile
    // split's lambda and spilled the micro-kernel's accumulators there; batch-1 convs ran 1.8× slower after a batch-256 run.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Multiply<TVec, TOps>(float* source, float* wide, int firstTile, int endTile, int firstPanel, int endPanel) where TVec : struct where TOps : struct, IVectorOps<TVec>
    {
        int depth = Wide.Depth, stride = Wide.WideStride, nr = GemmMicroKernel<TVec, TOps>.Cols, mr = _tileRows;
        int blocks = (depth + MaxDepthBlock - 1) / MaxDepthBlock, block = (depth + blocks - 1) / blocks;
        fixed (float* packed = _packedWeights)
        fixed (int* offsets = _offsets)
        {
            for (int j = firstTile * nr; j < endTile * nr; j += nr)
            {
                for (int pc = 0; pc < depth; pc += block)
                {
                    int kc = Math.Min(block, depth - pc);
                    // The first block writes the wide output, later ones add to it: it is never cleared.
                    for (int panel = firstPanel; panel < endPanel; panel++)
                        GemmMicroKernel<TVec, TOps>.Tile(kc, packed + (long)panel * mr * depth + pc * mr,
                            new OffsetRows(source + j, offsets + pc), wide + (long)panel * mr * stride + j, stride, 1f, overwrite: pc == 0);
                }
            }
        }
    }

    private static int TileCols(GemmKernel kernel) => kernel switch
    {
        GemmKernel.Vector512 => GemmMicroKernel<Vector512<float>, V512>.Cols,
        GemmKernel.Vector256 => GemmMicroKernel<Vector256<float>, V256>.Cols,
        _ => GemmMicroKernel<Vector128<float>, V128>.Cols,
    };

    public void Dispose()
    {
        if (_winograd is not null)
        {
            _winograd.Dispose();
            return;
        }
        TensorPool.Return(_packedWeights);
        TensorPool.ReturnInts(_offsets);
    }
}
