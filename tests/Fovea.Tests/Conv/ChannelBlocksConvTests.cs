using Fovea.Kernels;

namespace Fovea.Tests.Conv;

/// <summary>
/// Activations in channel blocks ([N, ⌈C / 16⌉, H, W, 16]): the conversions against the layout's definition, and
/// <see cref="F.TryConv2dBlocked"/> with its input, its output or both in blocks against the channel-vectorised kernel on
/// planes, bit for bit: channels that fill no whole block, 1×1 convs read in place, tiny maps whose tiles span images,
/// strided stems, dilation, batch norm, clips, both kinds of fused pool, and single images split in bands.
/// </summary>
public class ChannelBlocksConvTests
{
    [Theory]
    [InlineData(2, 20, 3, 5)]
    [InlineData(1, 16, 4, 4)]
    [InlineData(3, 7, 1, 1)]
    [InlineData(2, 33, 17, 3)]
    public void BlocksHoldEachPixelsSixteenChannelsInOneVector(int n, int c, int h, int w)
    {
        using var x = Tensor.Normal(new TensorShape(n, c, h, w), 0f, 1f, new Rng(3));
        using var _ = Autograd.NoGrad();
        using var blocked = F.ToChannelBlocks(x);
        Assert.Equal(new TensorShape(n, (c + 15) / 16, h, w, 16), blocked.Shape);
        var xs = x.ToArray();
        var bs = blocked.ToArray();
        for (int i = 0; i < n; i++)
            for (int b = 0; b < (c + 15) / 16; b++)
                for (int p = 0; p < h * w; p++)
                    for (int l = 0; l < 16; l++)
                    {
                        int ch = 16 * b + l;
                        float expected = ch < c ? xs[(i * c + ch) * h * w + p] : 0f;
                        Assert.Equal(expected, bs[((i * ((c + 15) / 16) + b) * h * w + p) * 16 + l]);
                    }
        using var back = F.FromChannelBlocks(blocked, c);
        Assert.Equal(xs, back.ToArray());
        Assert.Throws<ArgumentException>(() => F.FromChannelBlocks(blocked, c + 16));
    }

    public static TheoryData<int, int, int, int, int, int, int, int, string, int> Convs() => new()
    {
        // batch, in, out, size, kernel, stride, padding, dilation, epilogue, threads (0: as set)
        { 2, 16, 128, 11, 3, 1, 1, 1, "relu", 0 },         // SqueezeNet-style's expand
        { 3, 20, 48, 5, 1, 1, 0, 1, "relu", 0 },           // 1×1 read in place; a partial block in and out; two images a group
        { 4, 64, 16, 11, 1, 1, 0, 1, "relu", 0 },          // SqueezeNet-style's squeeze: tiles of 16 channels stored from the registers
        { 5, 40, 24, 2, 3, 1, 1, 1, "none", 0 },           // tiny maps: tiles span images; 24 outputs in a block of 32
        { 1, 24, 64, 14, 3, 1, 2, 2, "norm", 2 },          // dilated, a batch norm, one image in bands
        { 2, 3, 64, 23, 3, 2, 0, 1, "pool3", 0 },          // a strided stem and its 3×3 stride-2 pool
        { 3, 8, 144, 11, 3, 1, 1, 1, "pool3", 0 },         // 144 outputs: blocks of 64, 64 and 16, all pooled (the last one vector)
        { 1, 16, 64, 13, 3, 1, 1, 1, "pool3", 2 },         // a single image's pool split in bands of rows
        { 2, 16, 32, 9, 3, 1, 1, 1, "pool2norm", 0 },      // the 2×2 pool in the tiles, after a batch norm
        { 4, 17, 80, 6, 3, 1, 1, 1, "clip", 0 },           // ReLU6; 80 outputs: a block of 64 and one of 16
        // Tiny padded maps stored to blocks run a position at a time, each tile skipping the taps its windows read in the padding:
        { 32, 64, 64, 2, 3, 1, 1, 1, "relu", 0 },          // 16 images a group, a tile a position
        { 32, 48, 384, 2, 3, 1, 1, 1, "merged", 0 },       // SqueezeNet-style's merged Fire module: the 1×1 blocks share the whole kernel's taps
        { 7, 32, 256, 5, 3, 1, 1, 1, "relu", 0 },          // 5×5: edges, corners, interior; a last group of 3 images
        { 15, 16, 64, 3, 5, 1, 2, 1, "clip", 0 },          // a 5×5 kernel on 3×3 maps: windows of 3, 4 and 5 taps a side
        { 6, 24, 40, 4, 3, 2, 1, 1, "norm", 0 },           // strided; 40 outputs (a partial block, stored through the scratch) after a batch norm
        { 16, 16, 32, 3, 3, 1, 2, 2, "relu", 0 },          // dilated: the window's middle tap alone inside on some sides
        { 9, 32, 256, 5, 3, 1, 1, 1, "pool3", 0 },         // SqueezeNet-style's 5×5 Fire module and its pool: 4 images a group, then 1
        { 6, 16, 48, 5, 3, 1, 1, 1, "pool3", 0 },          // tiles of 8 pixels across two positions, pooled
        { 8, 8, 80, 4, 3, 1, 1, 1, "pool3norm", 0 },       // a batch norm before the pool: stored pixel-major through the scratch
    };

    [Theory]
    [MemberData(nameof(Convs))]
    public void AConvInBlocksGivesTheBitsOfTheKernelOnPlanes(int n, int c, int o, int size, int k, int stride, int padding, int dilation, string epilogue, int threads)
    {
        using var scope = Parallelism.UseThreads(threads > 0 ? threads : Parallelism.Threads);
        var rng = new Rng(29);
        using var x = Tensor.Normal(new TensorShape(n, c, size, size), 0f, 1f, rng);
        using var weight = Tensor.Normal(new TensorShape(o, c, k, k), 0f, 0.3f, rng);
        if (epilogue == "merged") MergeBranches(weight);
        using var bias = Tensor.Normal(new TensorShape(o), 0f, 0.3f, rng);
        x.Span[7] = float.NaN;
        using var _ = Autograd.NoGrad();
        var norm = epilogue.Contains("norm")
            ? new BatchNormAffine(Enumerable.Range(0, o).Select(i => 0.01f * i).ToArray(), Enumerable.Range(0, o).Select(i => 0.5f + 0.01f * i).ToArray(), Enumerable.Repeat(-0.1f, o).ToArray())
            : null;
        var fused = epilogue switch
        {
            "relu" => new ConvEpilogue(true, false),
            "norm" => new ConvEpilogue(false, false, norm),
            "pool3" => new ConvEpilogue(true, false, Pool: new MaxPoolWindow((3, 3), (2, 2), (0, 0), (0, 0), false)),
            "pool3norm" => new ConvEpilogue(true, false, norm, Pool: new MaxPoolWindow((3, 3), (2, 2), (0, 0), (0, 0), false)),
            "pool2norm" => new ConvEpilogue(true, true, norm),
            "clip" => new ConvEpilogue(false, false, Clip: (0f, 6f)),
            "merged" => new ConvEpilogue(true, false, MergedBranches: true),
            _ => new ConvEpilogue(false, false),
        };
        using var expected = OnPlanes(x, weight, bias, stride, padding, dilation, fused);
        if (fused.Pool is not null)
        {
            // The fused pool on planes runs a position at a time too: it must give the conv's, then the separate pool's, bits.
            using var conv = OnPlanes(x, weight, bias, stride, padding, dilation, fused with { Pool = null });
            using var pooled = F.MaxPool2d(conv, 3, 2);
            Assert.Equal(pooled.ToArray(), expected.ToArray());
        }
        using var blockedX = F.ToChannelBlocks(x);
        foreach (var (blockedInput, blockedOutput) in new[] { (true, false), (false, true), (true, true) })
        {
            using var y = F.TryConv2dBlocked(blockedInput ? blockedX : x, blockedInput, weight, bias, (stride, stride), padding, (dilation, dilation), fused, blockedOutput)
                ?? throw new InvalidOperationException("not run in blocks");
            using var planes = blockedOutput ? F.FromChannelBlocks(y, o) : null;
            Assert.Equal(expected.Shape, (planes ?? y).Shape);
            Assert.Equal(expected.ToArray(), (planes ?? y).ToArray());
        }
        Assert.Contains(expected.ToArray(), float.IsNaN);
    }

    [Fact]
    public void NothingIsWrittenPastTheLastBlock()
    {
        // 144 outputs in blocks of 64: the last tile block holds one live vector and three past O, which have no place.
        var rng = new Rng(31);
        using var x = Tensor.Normal(new TensorShape(2, 8, 11, 11), 0f, 1f, rng);
        using var weight = Tensor.Normal(new TensorShape(144, 8, 3, 3), 0f, 0.3f, rng);
        var g = ConvGeometry.Of("test", x.Shape, 8, 144, (3, 3), (1, 1), 1, (1, 1));
        var windows = new MaxPoolWindow((3, 3), (2, 2), (0, 0), (0, 0), false).Over([2, 144, 11, 11]);
        foreach (var pool in new PoolGeometry?[] { windows, null })
        {
            int plane = pool is { } p ? p.OutH * p.OutW : 121;
            long length = ChannelBlocks.Length(2, 144, plane);
            var y = Enumerable.Repeat(42f, (int)length + 3 * 16 * plane).ToArray();
            ChannelVectorConv.Forward(g, new ChannelVectorConv.Packed(g, weight.Span), x.Data, null, y, 0f, float.PositiveInfinity, windows: pool, blockedOutput: true);
            Assert.All(y[(int)length..], v => Assert.Equal(42f, v));
        }
    }

    [Fact]
    public void WhatTheKernelDoesNotRunIsLeftToTheCaller()
    {
        using var _ = Autograd.NoGrad();
        using var x = Tensor.Normal(new TensorShape(1, 16, 6, 6), 0f, 1f, new Rng(5));
        using var blocked = F.ToChannelBlocks(x);
        using var narrow = Tensor.Normal(new TensorShape(8, 16, 3, 3), 0f, 0.3f, new Rng(6));
        using var wide = Tensor.Normal(new TensorShape(16, 16, 3, 3), 0f, 0.3f, new Rng(6));
        using var shortcut = Tensor.Zeros(1, 16, 6, 6);
        // Under 16 output channels; a residual; a blocked input whose blocks do not hold the weight's channels.
        Assert.Null(F.TryConv2dBlocked(blocked, true, narrow, null, (1, 1), 1, (1, 1), new ConvEpilogue(true, false), true));
        Assert.Null(F.TryConv2dBlocked(blocked, true, wide, null, (1, 1), 1, (1, 1), new ConvEpilogue(true, false, Residual: shortcut), true));
        using var other = Tensor.Normal(new TensorShape(16, 40, 3, 3), 0f, 0.3f, new Rng(6));
        Assert.Null(F.TryConv2dBlocked(blocked, true, other, null, (1, 1), 1, (1, 1), new ConvEpilogue(true, false), false));
    }

    [Fact]
    public void AnEdgesTapsAreThoseOfItsKernelWindowAndItsOneByOneBlocksShareTheWholeKernels()
    {
        // 128 outputs on 2×2 maps, 3×3 with padding 1: the first 64 a 1×1 conv's (zero but for the centre).
        using var weight = Tensor.Normal(new TensorShape(128, 8, 3, 3), 0f, 0.3f, new Rng(7));
        MergeBranches(weight);
        var g = ConvGeometry.Of("test", new TensorShape(16, 8, 2, 2), 8, 128, (3, 3), (1, 1), 1, (1, 1));
        var packed = new ChannelVectorConv.Packed(g, weight.Span);
        Assert.True(packed.HasEdges);
        Assert.Equal([(1, 3), (0, 2)], packed.RowWindows);
        Assert.Equal([(1, 3), (0, 2)], packed.ColumnWindows);
        Assert.Equal([8, 72], packed.LiveTaps);
        // Output pixel (0, 0) reads kernel rows and columns 1 and 2 inside the input: 4 taps a channel.
        var corner = packed.Window(packed.WindowKey((1, 3), (1, 3)));
        Assert.Equal([8, 32], corner.Live);
        Assert.Same(corner, packed.Window(packed.WindowKey((1, 3), (1, 3))));
        Assert.Same(packed.Full, packed.Window(packed.FullWindow));
        // Channel c's taps (c, 1, 1), (c, 1, 2), (c, 2, 1), (c, 2, 2): their weights, in order.
        unsafe
        {
            Assert.True(corner.WeightsOf(0) == packed.Full.WeightsOf(0));
            Assert.False(corner.WeightsOf(1) == packed.Full.WeightsOf(1));
            float* w = corner.WeightsOf(1);
            var source = weight.ToArray();
            for (int c = 0; c < 8; c++)
                for (int t = 0; t < 4; t++)
                    for (int l = 0; l < 64; l++)
                        Assert.Equal(source[((64 + l) * 8 + c) * 9 + (1 + t / 2) * 3 + 1 + t % 2], w[(4 * c + t) * 64 + l]);
        }
        // Without padding no window is cut.
        Assert.False(new ChannelVectorConv.Packed(g with { PadTop = 0, PadBottom = 0, PadLeft = 0, PadRight = 0, OutHeight = 1, OutWidth = 1, InHeight = 3, InWidth = 3 }, weight.Span).HasEdges);
    }

    /// <summary>Zeroes the first half of the outputs' taps but the centre: two branches, a 1×1 conv and a 3×3 one, merged into one conv.</summary>
    private static void MergeBranches(Tensor weight)
    {
        int half = weight.Shape[0] / 2, taps = weight.Shape[2] * weight.Shape[3], window = weight.Shape[1] * taps;
        var span = weight.Span;
        for (int o = 0; o < half; o++)
            for (int t = 0; t < window; t++)
                if (t % taps != taps / 2) span[o * window + t] = 0f;
    }

    /// <summary>The channel-vectorised kernel on planes, with the same epilogue: the bits the blocked layouts must give.</summary>
    private static Tensor OnPlanes(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation, ConvEpilogue epilogue)
    {
        int o = weight.Shape[0];
        var g = ConvGeometry.Of("test", x.Shape, x.Shape[1], o, (weight.Shape[2], weight.Shape[3]), (stride, stride), padding, (dilation, dilation));
        var windows = epilogue.Pool?.Over([g.Batch, o, g.OutHeight, g.OutWidth]);
        var (h, w) = windows is { } p ? (p.OutH, p.OutW) : epilogue.MaxPool2x2 ? (g.OutHeight / 2, g.OutWidth / 2) : (g.OutHeight, g.OutWidth);
        var y = Tensor.Empty(g.Batch, o, h, w);
        var (low, high) = epilogue.Clip ?? (epilogue.Relu ? 0f : float.NegativeInfinity, float.PositiveInfinity);
        ChannelVectorConv.Forward(g, new ChannelVectorConv.Packed(g, weight.Span), x.Data, bias.Data, y.Data, low, high, epilogue.Norm, epilogue.MaxPool2x2, windows: windows);
        return y;
    }
}
