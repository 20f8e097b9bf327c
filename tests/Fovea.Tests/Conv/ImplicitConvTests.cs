using Fovea.Kernels;
using Fovea.Tests.Support;

namespace Fovea.Tests.Conv;

/// <summary>
/// The implicit-GEMM convolution (forward and input gradient) and the weight-gradient dot kernel against
/// naive loops, with every micro-kernel width, on shapes that cross tile edges: output channels not a
/// multiple of the tile rows, rows shorter and longer than a tile, depth above one pass (576 taps),
/// asymmetric padding, dilation, 1×1 and valid (unpadded) kernels; and the forward by Winograd F(2×2, 3×3)
/// (<see cref="WinogradConv"/>, Vector512 kernel) on 3×3 shapes with odd sizes, several tile-row blocks and batch 1.
/// </summary>
public class ImplicitConvTests
{
    private static readonly Dictionary<string, ConvGeometry> Cases = new()
    {
        ["k3_p1_o13"] = Of(3, 4, 13, 9, 11, (3, 3), 1, (1, 1)),
        ["k3_p1_wide_rows"] = Of(2, 3, 8, 5, 37, (3, 3), 1, (1, 1)),
        ["k3_deep_o5"] = Of(2, 70, 5, 4, 6, (3, 3), 1, (1, 1)),
        ["k1_o17"] = Of(3, 6, 17, 7, 5, (1, 1), 0, (1, 1)),
        ["k3_valid"] = Of(2, 3, 4, 8, 9, (3, 3), 0, (1, 1)),
        ["k5x3_same_dilated"] = Of(2, 2, 3, 9, 8, (5, 3), Padding2d.Same, (1, 2)),
        ["k4x2_same_asymmetric"] = Of(1, 2, 9, 7, 5, (4, 2), Padding2d.Same, (1, 1)),
        // Enough row panels (a ragged last one) that a split run shares them among threads instead of column tiles.
        ["k3_p1_o67_panels"] = Of(1, 5, 67, 6, 7, (3, 3), 1, (1, 1)),
        // Winograd F(2×2, 3×3) (forward, Vector512 kernel): odd output sizes (half tiles), no padding, the widest
        // padding, rows of more than 16 tiles (masked vectors), several tile-row blocks, channels not a multiple of 8.
        ["winograd_p1_odd"] = Of(2, 17, 19, 13, 11, (3, 3), 1, (1, 1)),
        ["winograd_valid_b1"] = Of(1, 16, 16, 9, 12, (3, 3), 0, (1, 1)),
        ["winograd_p2"] = Of(1, 16, 23, 7, 8, (3, 3), 2, (1, 1)),
        ["winograd_wide_rows"] = Of(1, 16, 16, 5, 70, (3, 3), 1, (1, 1)),
        ["winograd_blocks"] = Of(1, 16, 17, 45, 45, (3, 3), 1, (1, 1)),
    };

    public static TheoryData<string, GemmKernel> Shapes()
    {
        var data = new TheoryData<string, GemmKernel>();
        foreach (var name in Cases.Keys)
            foreach (var kernel in Enum.GetValues<GemmKernel>()) data.Add(name, kernel);
        return data;
    }

    private static ConvGeometry Of(int n, int c, int o, int h, int w, (int, int) kernel, Padding2d padding, (int, int) dilation) =>
        ConvGeometry.Of("test", new TensorShape(n, c, h, w), c, o, kernel, (1, 1), padding, dilation);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardMatchesTheDefinition(string name, GemmKernel kernel)
    {
        var g = Cases[name];
        Assert.True(ImplicitConv.Supports(g));
        // The Winograd cases are too small for it to pay: it is forced, where the hardware has it.
        bool winograd = name.StartsWith("winograd", StringComparison.Ordinal);
        Assert.Equal(winograd && kernel == GemmKernel.Vector512 && System.Runtime.Intrinsics.X86.Avx512F.IsSupported, winograd && WinogradConv.Supports(g, kernel));
        var (x, w, _) = Inputs(g);
        var bias = TestArrays.Uniform(g.OutChannels, 4);
        int inLength = g.InChannels * g.InPixels, outLength = g.OutChannels * g.OutPixels;
        var expected = new float[g.Batch * outLength];
        ForEachTap(g, (n, o, c, oh, ow, xi, wi) => expected[((n * g.OutChannels + o) * g.OutHeight + oh) * g.OutWidth + ow] += x[xi] * w[wi]);
        for (int i = 0; i < expected.Length; i++) expected[i] += bias[i / g.OutPixels % g.OutChannels];

        using var plan = ImplicitConv.ForOutput(g, w, kernel, winograd);
        using var threads = Parallelism.UseThreads(2);
        foreach (bool splitTiles in new[] { false, true })
        {
            var y = new float[g.Batch * outLength];
            var scratch = TestArrays.Filled(plan.ScratchLength(splitTiles), float.NaN); // contents unspecified: nothing may leak through
            for (int n = 0; n < g.Batch; n++)
                plan.Run(x.AsSpan(n * inLength, inLength), y.AsSpan(n * outLength, outLength), bias, accumulate: false, scratch, splitTiles);
            TensorAssert.Close(expected, y, 1e-5, 1e-5, $"{name} {kernel} split={splitTiles}");
        }
    }

    [Theory]
    [InlineData(70, false)]  // 9 row panels: each thread multiplies and narrows its own panels
    [InlineData(13, false)]  // 2 row panels: threads share the column tiles, then narrow a share of the channels each
    [InlineData(70, true)]   // Winograd: each thread takes 2 or 3 of the 5 tile rows (the last with one real output row)
    [InlineData(13, true)]
    public void SplittingAnImageGivesTheBitsOfOneThread(int outChannels, bool winograd)
    {
        var g = Of(1, 7, outChannels, 9, 10, (3, 3), 1, (1, 1));
        if (winograd && !WinogradConv.Supports(g, Gemm.DefaultKernel)) return; // no AVX-512 here: the direct cases cover the split
        var (x, w, _) = Inputs(g);
        var bias = TestArrays.Uniform(g.OutChannels, 4);
        var norm = new BatchNormAffine(TestArrays.Uniform(g.OutChannels, 5), TestArrays.Uniform(g.OutChannels, 6), TestArrays.Uniform(g.OutChannels, 7));
        using var plan = ImplicitConv.ForOutput(g, w, Gemm.DefaultKernel, winograd);
        using var threads = Parallelism.UseThreads(2);
        var scratch = TestArrays.Filled(plan.ScratchLength(splitTiles: true), float.NaN);
        foreach (var epilogue in new[] { default, new ConvEpilogue(false, false, norm), new ConvEpilogue(true, true, norm) })
        {
            int outLength = g.OutChannels * epilogue.OutputPlane(g.OutHeight, g.OutWidth);
            var one = new float[outLength];
            var split = TestArrays.Filled(outLength, float.NaN);
            plan.Run(x, one, bias, accumulate: false, scratch, splitTiles: false, epilogue);
            plan.Run(x, split, bias, accumulate: false, scratch, splitTiles: true, epilogue);
            Assert.Equal(one, split);
        }
    }

    [Theory]
    [InlineData(5, 16, 24, 14, 14)]  // 7 tiles a row: blocks of 9 rows run on from one image into the next
    [InlineData(9, 16, 17, 8, 8)]    // 4 tiles a row, 4 rows an image: a block spans four images or more
    [InlineData(3, 17, 19, 13, 11)]  // odd sizes: half tiles at each image's edge
    [InlineData(1, 16, 16, 14, 14)]
    public void RunningImagesTogetherGivesTheBitsOfOneAtATime(int batch, int channels, int outChannels, int height, int width)
    {
        var g = Of(batch, channels, outChannels, height, width, (3, 3), 1, (1, 1));
        var (x, w, _) = Inputs(g);
        var bias = TestArrays.Uniform(g.OutChannels, 4);
        var norm = new BatchNormAffine(TestArrays.Uniform(g.OutChannels, 5), TestArrays.Uniform(g.OutChannels, 6), TestArrays.Uniform(g.OutChannels, 7));
        int inLength = g.InChannels * g.InPixels;
        foreach (bool winograd in new[] { false, WinogradConv.Supports(g, Gemm.DefaultKernel) }.Distinct())
        {
            using var plan = ImplicitConv.ForOutput(g, w, Gemm.DefaultKernel, winograd);
            foreach (var epilogue in new[] { default, new ConvEpilogue(true, true, norm) })
            {
                int outLength = g.OutChannels * epilogue.OutputPlane(g.OutHeight, g.OutWidth);
                var one = new float[batch * outLength];
                var scratch = new float[plan.ScratchLength(splitTiles: false)];
                for (int n = 0; n < batch; n++)
                    plan.Run(x.AsSpan(n * inLength, inLength), one.AsSpan(n * outLength, outLength), bias, accumulate: false, scratch, splitTiles: false, epilogue);
                var together = TestArrays.Filled(batch * outLength, float.NaN);
                plan.RunImages(x, together, batch, bias, TestArrays.Filled(plan.ScratchLengthFor(batch), float.NaN), epilogue);
                Assert.Equal(one, together);
            }
        }
    }

    [Fact]
    public void WinogradRunsWhereItPaysAndAgreesWithTheDirectConv()
    {
        var g = ConvGeometry.Of("test", new TensorShape(2, 64, 45, 47), 64, 72, (3, 3), (1, 1), 1, (1, 1));
        Assert.True(WinogradConv.Pays(g));
        var (x, w, _) = Inputs(g);
        var bias = TestArrays.Uniform(g.OutChannels, 4);
        using var xt = Tensor.FromArray(x, g.Batch, g.InChannels, g.InHeight, g.InWidth);
        using var wt = Tensor.FromArray(w, g.OutChannels, g.InChannels, 3, 3);
        using var bt = Tensor.FromArray(bias, g.OutChannels);
        using var y = F.Conv2d(xt, wt, bt, padding: 1);

        using var direct = ImplicitConv.ForOutput(g, w, Gemm.DefaultKernel, winograd: false);
        var expected = new float[y.Length];
        var scratch = new float[direct.ScratchLength(splitTiles: false)];
        int inLength = g.InChannels * g.InPixels, outLength = g.OutChannels * g.OutPixels;
        for (int n = 0; n < g.Batch; n++)
            direct.Run(x.AsSpan(n * inLength, inLength), expected.AsSpan(n * outLength, outLength), bias, accumulate: false, scratch);
        // Outputs are sums of 576 products, up to ~10 in size: Winograd's rounding differs by ~1e-5 absolute.
        TensorAssert.Close(expected, y.Span, 1e-4, 1e-4, "F.Conv2d (Winograd where the hardware has it) vs the direct conv");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void InputGradientMatchesTheDefinitionAndAccumulates(string name, GemmKernel kernel)
    {
        var g = Cases[name];
        var (x, w, dy) = Inputs(g);
        int inLength = g.InChannels * g.InPixels, outLength = g.OutChannels * g.OutPixels;
        var dx = TestArrays.Filled(x.Length, 0.5f);
        // The Winograd cases force it for the input gradient too (a stride-1 convolution of dy), where the hardware has it.
        using var plan = ImplicitConv.ForInputGradient(g, w, kernel, winograd: name.StartsWith("winograd", StringComparison.Ordinal));
        var scratch = TestArrays.Filled(plan.ScratchLength(splitTiles: false), float.NaN);
        for (int n = 0; n < g.Batch; n++)
            plan.Run(dy.AsSpan(n * outLength, outLength), dx.AsSpan(n * inLength, inLength), default, accumulate: true, scratch);

        var expected = TestArrays.Filled(x.Length, 0.5f);
        ForEachTap(g, (n, o, c, oh, ow, xi, wi) => expected[xi] += dy[((n * g.OutChannels + o) * g.OutHeight + oh) * g.OutWidth + ow] * w[wi]);
        TensorAssert.Close(expected, dx, 1e-5, 1e-5, $"{name} {kernel}");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void WeightGradientMatchesTheDefinitionAndAccumulates(string name, GemmKernel kernel)
    {
        var g = Cases[name];
        var (x, w, dy) = Inputs(g);
        var dw = TestArrays.Filled(w.Length, 0.5f);
        ConvWeightGradient.Accumulate(g, kernel, x, dy, g.Batch, dw);

        var expected = TestArrays.Filled(w.Length, 0.5f);
        ForEachTap(g, (n, o, c, oh, ow, xi, wi) => expected[wi] += dy[((n * g.OutChannels + o) * g.OutHeight + oh) * g.OutWidth + ow] * x[xi]);
        TensorAssert.Close(expected, dw, 1e-4, 1e-4, $"{name} {kernel}");
    }

    /// <summary>Visits every (image, out channel, in channel, output pixel, tap) that reads an input pixel (not padding), with the x and w indices.</summary>
    private static void ForEachTap(ConvGeometry g, Action<int, int, int, int, int, int, int> visit)
    {
        for (int n = 0; n < g.Batch; n++)
            for (int o = 0; o < g.OutChannels; o++)
                for (int c = 0; c < g.InChannels; c++)
                    for (int oh = 0; oh < g.OutHeight; oh++)
                        for (int ow = 0; ow < g.OutWidth; ow++)
                            for (int ki = 0; ki < g.KernelHeight; ki++)
                                for (int kj = 0; kj < g.KernelWidth; kj++)
                                {
                                    int ih = oh - g.PadTop + ki * g.DilationHeight, iw = ow - g.PadLeft + kj * g.DilationWidth;
                                    if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue;
                                    visit(n, o, c, oh, ow, ((n * g.InChannels + c) * g.InHeight + ih) * g.InWidth + iw,
                                        ((o * g.InChannels + c) * g.KernelHeight + ki) * g.KernelWidth + kj);
                                }
    }

    private static (float[] X, float[] W, float[] Dy) Inputs(ConvGeometry g) =>
        (TestArrays.Uniform(g.InputShape.Length, 1), TestArrays.Uniform(g.OutChannels * g.WindowLength, 2), TestArrays.Uniform(g.OutputShape.Length, 3));
}
