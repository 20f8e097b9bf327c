using Fovea.Kernels;
using Fovea.Nn;
using Fovea.Tests.Support;

namespace Fovea.Tests.Conv;

/// <summary>
/// The fused inference convolution (bias, batch norm, ReLU and 2×2 max pool applied as the output is written)
/// against the separate ops, bit for bit, and Sequential's fusion of Conv2d → BatchNorm2d → ReLU → MaxPool2d(2)
/// under no-grad against the layers run one by one: odd and prime sizes (the pool drops the last row and column),
/// batch 1, padding, dilation, and what the fused pass leaves to the separate ops (stride, groups, gradients).
/// </summary>
public class ConvFusionTests
{
    public static TheoryData<int, int, int, int, int, int, int, int> Shapes() => new()
    {
        // batch, in, out, height, width, kernel, padding, dilation
        { 1, 1, 32, 28, 28, 3, 1, 1 },
        { 3, 1, 7, 13, 11, 3, 1, 1 },
        { 2, 5, 13, 9, 17, 3, 1, 1 },
        { 1, 4, 9, 7, 5, 3, 0, 1 },
        { 2, 3, 11, 10, 8, 5, 2, 1 },
        { 2, 3, 6, 11, 9, 3, 2, 2 },
        { 2, 6, 17, 5, 37, 1, 0, 1 },
        { 3, 8, 32, 8, 8, 3, 1, 1 },  // a small map: the channel-vectorised kernel, each tile's 4 pixels one pool window
        { 1, 9, 40, 15, 15, 3, 1, 1 },  // a single image: 49 windows, the last in a tile of 8 pixels alone
        { 1, 8, 70, 13, 15, 3, 1, 1 },  // a partial block of channels, an odd map whose last row and column no window reads
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void FusedConvEqualsTheSeparateOpsBitwise(int n, int c, int o, int h, int w, int k, int padding, int dilation)
    {
        var rng = new Rng(3);
        using var x = Tensor.Normal(new TensorShape(n, c, h, w), 0, 1, rng);
        using var weight = Tensor.Normal(new TensorShape(o, c, k, k), 0, 0.3f, rng);
        using var bias = Tensor.Normal(new TensorShape(o), 0, 0.3f, rng);
        using var _ = Autograd.NoGrad();
        using var conv = F.Conv2d(x, weight, bias, padding: padding, dilation: dilation);
        using var activated = F.Relu(conv);
        using var pooled = F.MaxPool2d(activated, 2);
        foreach (var (epilogue, expected) in new[] { (new ConvEpilogue(true, false), activated), (new ConvEpilogue(true, true), pooled) })
        {
            using var fused = Fused(x, weight, bias, padding, dilation, epilogue);
            TensorAssert.Equal(expected, fused, $"{epilogue}");
        }
    }

    [Theory]
    [InlineData(16, 64, 15, 15, 3, 1, 1)]  // 49 pool windows: bands end mid-row, and a band's last window is alone in its tile
    [InlineData(12, 40, 13, 15, 5, 2, 1)]  // two blocks of channels: bands only from 3 threads
    [InlineData(16, 64, 14, 14, 3, 2, 2)]  // dilated: each band reads 4 rows past its own
    public void ASingleImageSplitInBandsGivesOneThreadsBits(int c, int o, int h, int w, int k, int padding, int dilation)
    {
        // At batch 1 the channel-vectorised kernel splits the tiles into a band a thread, each padding only the input rows
        // its windows read; every pixel's sum runs over the same taps in the same order, so any split gives the same bits.
        var rng = new Rng(5);
        using var x = Tensor.Normal(new TensorShape(1, c, h, w), 0, 1, rng);
        using var weight = Tensor.Normal(new TensorShape(o, c, k, k), 0, 0.3f, rng);
        using var bias = Tensor.Normal(new TensorShape(o), 0, 0.3f, rng);
        using var _ = Autograd.NoGrad();
        Assert.True(ChannelVectorConv.Supports(ConvGeometry.Of("test", x.Shape, c, o, (k, k), (1, 1), padding, (dilation, dilation)))
            || !System.Runtime.Intrinsics.X86.Avx512F.IsSupported);
        foreach (var epilogue in new[] { new ConvEpilogue(true, false), new ConvEpilogue(true, true) })
        {
            Tensor one;
            using (Parallelism.UseThreads(1)) one = Fused(x, weight, bias, padding, dilation, epilogue);
            using (one)
                foreach (int threads in new[] { 2, 3, 5 })
                {
                    using var scope = Parallelism.UseThreads(threads);
                    using var split = Fused(x, weight, bias, padding, dilation, epilogue);
                    TensorAssert.Equal(one, split, $"{epilogue}, {threads} threads");
                }
        }
    }

    [Fact]
    public void AStridedSingleImageSplitInBandsGivesOneThreadsBits()
    {
        // Stride 2, a 4×5 kernel: a band's first padded row is twice its first output row, its last 3 rows further on.
        var rng = new Rng(6);
        using var x = Tensor.Normal(new TensorShape(1, 16, 31, 28), 0, 1, rng);
        using var weight = Tensor.Normal(new TensorShape(64, 16, 4, 5), 0, 0.3f, rng);
        using var _ = Autograd.NoGrad();
        Tensor one;
        using (Parallelism.UseThreads(1)) one = F.Conv2d(x, weight, null, stride: 2, padding: new Padding2d(1, 2));
        using (one)
            foreach (int threads in new[] { 2, 3, 5 })
            {
                using var scope = Parallelism.UseThreads(threads);
                using var split = F.Conv2d(x, weight, null, stride: 2, padding: new Padding2d(1, 2));
                TensorAssert.Equal(one, split, $"{threads} threads");
            }
    }

    [Fact]
    public void NaNPropagatesThroughTheFusedPoolAndReLU()
    {
        using var x = Tensor.Normal(new TensorShape(1, 2, 6, 6), 0, 1, new Rng(4));
        x.Span[7] = float.NaN;
        using var weight = Tensor.Full(new TensorShape(3, 2, 1, 1), -1f);
        using var _ = Autograd.NoGrad();
        using var fused = Fused(x, weight, null, 0, 1, new ConvEpilogue(true, true));
        using var expected = F.MaxPool2d(F.Relu(F.Conv2d(x, weight)), 2);
        Assert.True(float.IsNaN(fused.Span[0]));
        TensorAssert.Equal(expected, fused);
    }

    [Fact]
    public void WhereTheFusedPassDoesNotApplyTheCallerIsToldToRunTheSeparateOps()
    {
        var rng = new Rng(5);
        using var x = Tensor.Normal(new TensorShape(2, 4, 11, 9), 0, 1, rng);
        using var grouped = Tensor.Normal(new TensorShape(6, 2, 3, 3), 0, 0.3f, rng);
        using var weight = Tensor.Normal(new TensorShape(6, 4, 3, 3), 0, 0.3f, rng);
        var epilogue = new ConvEpilogue(true, true);
        using (Autograd.NoGrad())
        {
            Assert.Null(F.TryConv2dFused(null, x, weight, null, (2, 1), 1, (1, 1), 1, epilogue));
            Assert.Null(F.TryConv2dFused(null, x, grouped, null, (1, 1), 1, (1, 1), 2, epilogue));
            using var tiny = Tensor.Zeros(1, 4, 1, 5);
            Assert.Null(F.TryConv2dFused(null, tiny, weight, null, (1, 1), 1, (1, 1), 1, epilogue));
        }
        weight.RequiresGrad = true;
        Assert.Null(F.TryConv2dFused(null, x, weight, null, (1, 1), 1, (1, 1), 1, epilogue));
    }

    /// <summary>
    /// A ReLU or a clip alone fuses into every kernel that fuses: the direct depthwise kernels (rows of 16 and more, of 8, and
    /// narrow planes by channels, multiplier 2), the direct stem and the implicit GEMM — bitwise the separate ops, NaN included.
    /// </summary>
    [Theory]
    [InlineData(2, 16, 16, 33, 1, 16)]  // depthwise, rows of a Vector512
    [InlineData(2, 12, 12, 16, 2, 12)]  // depthwise stride 2, rows of 8
    [InlineData(3, 24, 48, 5, 1, 24)]   // depthwise on narrow planes (by channels), multiplier 2
    [InlineData(2, 3, 16, 32, 2, 1)]    // a small strided stem
    [InlineData(2, 5, 7, 9, 1, 1)]      // the implicit GEMM
    [InlineData(4, 8, 40, 6, 1, 1)]     // vectorised across output channels (a small map)
    public void AReLUOrAClipFusesIntoEveryKernelThatFuses(int n, int c, int o, int size, int stride, int groups)
    {
        var rng = new Rng(12);
        using var x = Tensor.Normal(new TensorShape(n, c, size, size), 0, 1, rng);
        x.Span[size + 3] = float.NaN;
        using var weight = Tensor.Normal(new TensorShape(o, c / groups, 3, 3), 0, 0.5f, rng);
        using var bias = Tensor.Normal(new TensorShape(o), 0, 0.3f, rng);
        using var _ = Autograd.NoGrad();
        using var conv = F.Conv2d(x, weight, bias, stride: stride, padding: 1, groups: groups);
        var cases = new (ConvEpilogue Epilogue, Func<float, float> Map)[]
        {
            (new ConvEpilogue(true, false), v => MathF.Max(v, 0f)),
            (new ConvEpilogue(false, false, Clip: (0f, 6f)), v => MathF.Min(MathF.Max(v, 0f), 6f)),
            (new ConvEpilogue(false, false, Clip: (-0.5f, 0.25f)), v => MathF.Min(MathF.Max(v, -0.5f), 0.25f)),
        };
        foreach (var (epilogue, map) in cases)
        {
            using var fused = F.TryConv2dFused(null, x, weight, bias, (stride, stride), 1, (1, 1), groups, epilogue) ?? throw new InvalidOperationException($"{epilogue} not fused");
            using var expected = Tensor.FromArray(conv.ToArray().Select(map).ToArray(), conv.Shape.ToArray());
            TensorAssert.Equal(expected, fused, $"{epilogue}");
            Assert.Contains(fused.ToArray(), float.IsNaN);
        }
    }

    /// <summary>
    /// A max pool other than 2×2 after the ReLU, fused into the channel-vectorised kernel (outputs kept pixel-major, only
    /// the pooled ones transposed), gives the separate ops' bits: SqueezeNet's 3×3 stride-2 ceil-mode pool after its
    /// strided stem, ResNet's padded one after a 7×7 stem, a batch norm before it, a map small enough that a group holds
    /// several images (and a partial block of channels), padding heavier at the end (against −∞ borders), a NaN input;
    /// SqueezeNet-style's stem at full size (11 pooled columns: windows four at a time, the last four overlapping); a
    /// single image split between 2 or 3 threads by bands of pooled rows (the conv rows between two bands computed by both),
    /// with and without padding; ResNet-style's 16-channel stem (a single vector of channels), whole and in bands.
    /// </summary>
    [Theory]
    [InlineData(2, 3, 16, 32, 7, 2, 3, 3, 2, 1, 1, false, false)]
    [InlineData(1, 3, 16, 32, 7, 2, 3, 3, 2, 1, 1, false, false, 2)]
    [InlineData(1, 16, 64, 13, 3, 1, 1, 3, 2, 0, 0, true, false, 2)]
    [InlineData(1, 16, 64, 13, 3, 1, 1, 3, 2, 0, 0, true, false, 3)]
    [InlineData(1, 16, 64, 12, 3, 1, 1, 3, 2, 1, 1, false, true, 3)]
    [InlineData(3, 3, 64, 17, 3, 2, 0, 3, 2, 0, 0, true, false)]
    [InlineData(2, 3, 64, 48, 3, 2, 0, 3, 2, 0, 0, true, false)]
    [InlineData(2, 3, 32, 20, 7, 2, 3, 3, 2, 1, 1, false, false)]
    [InlineData(2, 5, 32, 9, 3, 1, 1, 3, 2, 1, 1, false, true)]
    [InlineData(9, 6, 40, 4, 3, 1, 1, 2, 1, 0, 0, false, false)]
    [InlineData(2, 3, 64, 17, 3, 2, 0, 3, 2, 0, 1, false, false)]
    public void AnyMaxPoolAfterTheReLUFusesIntoTheChannelVectorisedKernel(int n, int c, int o, int size, int k, int stride, int padding,
        int window, int poolStride, int padBegin, int padEnd, bool ceil, bool norm, int threads = 0)
    {
        using var scope = Parallelism.UseThreads(threads > 0 ? threads : Parallelism.Threads);
        var rng = new Rng(17);
        using var x = Tensor.Normal(new TensorShape(n, c, size, size), 0f, 1f, rng);
        using var weight = Tensor.Normal(new TensorShape(o, c, k, k), 0f, 0.3f, rng);
        using var bias = Tensor.Normal(new TensorShape(o), 0f, 0.3f, rng);
        x.Span[5] = float.NaN;
        using var _ = Autograd.NoGrad();
        var affine = norm ? new BatchNormAffine(Enumerable.Repeat(0.1f, o).ToArray(), Enumerable.Repeat(0.8f, o).ToArray(), Enumerable.Repeat(-0.2f, o).ToArray()) : null;
        var pool = new MaxPoolWindow((window, window), (poolStride, poolStride), (padBegin, padBegin), (padEnd, padEnd), ceil);
        var g = ConvGeometry.Of("test", x.Shape, c, o, (k, k), (stride, stride), padding, (1, 1));
        Assert.True(ChannelVectorConv.Supports(g));
        using var fused = F.TryConv2dFused(null, x, weight, bias, (stride, stride), padding, (1, 1), 1, new ConvEpilogue(true, false, affine, Pool: pool))
            ?? throw new InvalidOperationException("not fused");
        using var conv = F.Conv2d(x, weight, bias, stride, padding);
        using var normed = norm ? Normalized(conv, affine!) : null;
        using var activated = F.Relu(normed ?? conv);
        using var padded = padBegin == padEnd ? null : F.Pad(activated, [padBegin, padEnd, padBegin, padEnd], float.NegativeInfinity);
        using var expected = padded is null ? F.MaxPool2d(activated, (window, window), (poolStride, poolStride), (padBegin, padBegin), (1, 1), ceil)
            : F.MaxPool2d(padded, (window, window), (poolStride, poolStride), (0, 0), (1, 1), false);
        Assert.Equal(expected.Shape, fused.Shape);
        Assert.Equal(expected.ToArray(), fused.ToArray());
        Assert.Contains(fused.ToArray(), float.IsNaN);
        // Under 16 output channels (a vector) the channel-vectorised kernel does not run: the caller runs the pool apart.
        using var narrow = Tensor.Normal(new TensorShape(8, c, k, k), 0f, 0.3f, rng);
        Assert.Null(F.TryConv2dFused(null, x, narrow, null, (stride, stride), padding, (1, 1), 1, new ConvEpilogue(true, false, Pool: pool)));
    }

    /// <summary>(v − mean)·scale + shift per channel, as the separate batch norm computes it.</summary>
    private static Tensor Normalized(Tensor x, BatchNormAffine norm)
    {
        var y = Tensor.Empty(x.Shape.ToArray());
        int channels = x.Shape[1], plane = x.Shape[2] * x.Shape[3];
        for (int i = 0; i < x.Length; i++)
        {
            int ch = i / plane % channels;
            y.Span[i] = (x.Span[i] - norm.Mean[ch]) * norm.Scale[ch] + norm.Shift[ch];
        }
        return y;
    }

    [Fact]
    public void APoolWithoutReLUIsRefused()
    {
        using var x = Tensor.Zeros(1, 1, 4, 4);
        using var weight = Tensor.Zeros(1, 1, 3, 3);
        var e = Assert.Throws<ArgumentException>(() => F.TryConv2dFused(null, x, weight, null, (1, 1), 1, (1, 1), 1, new ConvEpilogue(false, true)));
        Assert.Contains("Conv2d", e.Message);
    }

    [Theory]
    [InlineData(1, 28)]
    [InlineData(3, 13)]
    public void SequentialFusesConvBatchNormReLUAndPoolAtInference(int batch, int size)
    {
        var model = ConvStack(new Rng(7));
        model.Eval();
        using var x = Tensor.Normal(new TensorShape(batch, 3, size, size), 0, 1, new Rng(8));
        using var _ = Autograd.NoGrad();
        using var expected = LayerByLayer(model, x);
        using var fused = model.Forward(x);
        TensorAssert.Equal(expected, fused, "fused model");
        using var again = model.Forward(x);
        TensorAssert.Equal(fused, again, "fused model, second run");

        // Nothing is cached: changed weights and statistics show at once.
        ((Conv2d)model.Layers[0]).Weight.Span[0] += 0.5f;
        ((BatchNorm2d)model.Layers[1]).RunningMean!.Span[1] = 0.3f;
        using var changedExpected = LayerByLayer(model, x);
        using var changed = model.Forward(x);
        TensorAssert.Equal(changedExpected, changed, "after changing weights");
    }

    [Fact]
    public void TheChannelVectorisedKernelFusesABatchNormAtBatchOne()
    {
        // A single image on a 12×12 map runs the channel-vectorised kernel, which applies the batch norm (and ReLU) as it
        // stores; the pool follows as a pass. Both blocks must give the layers' own bits.
        var rng = new Rng(12);
        var model = new Sequential(
            new Conv2d(8, 40, 3, padding: 1, bias: false, rng: rng), new BatchNorm2d(40),
            new Conv2d(40, 32, 3, padding: 1, rng: rng), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2));
        foreach (var (_, module) in model.NamedModules())
            if (module is BatchNorm2d bn)
                foreach (var (t, low) in new[] { (bn.Weight!, 0.5f), (bn.Bias!, -0.2f), (bn.RunningMean!, -0.2f), (bn.RunningVar!, 0.5f) })
                {
                    var span = t.Span;
                    for (int i = 0; i < span.Length; i++) span[i] = low + rng.NextFloat();
                }
        model.Eval();
        Assert.True(ChannelVectorConv.Supports(ConvGeometry.Of("test", new TensorShape(1, 8, 12, 12), 8, 40, (3, 3), (1, 1), 1, (1, 1)))
            || !System.Runtime.Intrinsics.X86.Avx512F.IsSupported);
        using var x = Tensor.Normal(new TensorShape(1, 8, 12, 12), 0, 1, new Rng(13));
        using var _ = Autograd.NoGrad();
        using var expected = LayerByLayer(model, x);
        using var fused = model.Forward(x);
        TensorAssert.Equal(expected, fused, "fused model");
    }

    [Fact]
    public void BatchNormInTrainingModeIsNotFoldedUnderNoGrad()
    {
        var fusedModel = ConvStack(new Rng(9));
        var separateModel = ConvStack(new Rng(9));
        using var x = Tensor.Normal(new TensorShape(4, 3, 10, 10), 0, 1, new Rng(10));
        using var _ = Autograd.NoGrad();
        using var fused = fusedModel.Forward(x);
        using var expected = LayerByLayer(separateModel, x);
        TensorAssert.Equal(expected, fused, "training-mode output");
        var fusedBn = (BatchNorm2d)fusedModel.Layers[1];
        var separateBn = (BatchNorm2d)separateModel.Layers[1];
        TensorAssert.Equal(separateBn.RunningMean!, fusedBn.RunningMean!, "running mean");
        TensorAssert.Equal(separateBn.NumBatchesTracked!, fusedBn.NumBatchesTracked!, "batches tracked");
    }

    [Fact]
    public void AFusedLayerStillNamesItselfInMisuseMessages()
    {
        var model = ConvStack(new Rng(11));
        model.Eval();
        using var x = Tensor.Zeros(1, 2, 8, 8);
        using var _ = Autograd.NoGrad();
        var e = Assert.Throws<ArgumentException>(() => model.Forward(x));
        Assert.StartsWith("Layer 0 (Conv2d(3→8", e.Message);
        Assert.Contains("[1, 2, 8, 8]", e.Message);
    }

    private static Tensor Fused(Tensor x, Tensor weight, Tensor? bias, int padding, int dilation, ConvEpilogue epilogue) =>
        F.TryConv2dFused(null, x, weight, bias, (1, 1), padding, (dilation, dilation), 1, epilogue) ?? throw new InvalidOperationException("not fused");

    /// <summary>Conv-BN-ReLU-pool twice (the second conv with a bias), a conv with BN only, one with ReLU only, and a strided one (not fused).</summary>
    private static Sequential ConvStack(Rng rng)
    {
        var model = new Sequential(
            new Conv2d(3, 8, 3, padding: 1, bias: false, rng: rng), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
            new Conv2d(8, 5, 3, padding: 1, rng: rng), new BatchNorm2d(5), new ReLU(), new MaxPool2d(2),
            new Conv2d(5, 6, 1, rng: rng), new BatchNorm2d(6),
            new Conv2d(6, 4, 3, padding: 1, rng: rng), new ReLU(),
            new Conv2d(4, 4, 3, stride: 2, padding: 1, rng: rng), new BatchNorm2d(4), new ReLU());
        foreach (var (_, module) in model.NamedModules())
        {
            if (module is not BatchNorm2d bn) continue;
            foreach (var (t, low) in new[] { (bn.Weight!, 0.5f), (bn.Bias!, -0.2f), (bn.RunningMean!, -0.2f), (bn.RunningVar!, 0.5f) })
            {
                var span = t.Span;
                for (int i = 0; i < span.Length; i++) span[i] = low + rng.NextFloat();
            }
        }
        return model;
    }

    private static Tensor LayerByLayer(Sequential model, Tensor x)
    {
        var h = x;
        foreach (var layer in model.Layers)
        {
            var y = layer.Forward(h);
            if (!ReferenceEquals(h, x)) h.Dispose();
            h = y;
        }
        return h;
    }
}
