using Fovea.Kernels;
using Fovea.Tests.Support;

namespace Fovea.Tests.Conv;

/// <summary>
/// The direct kernels (depthwise by planes, by rows read in place and by channels, and the forward of strided stems) and the batched-images im2col GEMM against a naive convolution (forward, input,
/// weight and bias gradients, in double) on odd shapes: prime sizes, strides 1–3, asymmetric padding, dilation,
/// channel multiplier 2, batch 1 and 33, 1×1 and 5×5 kernels; through F.Conv2d (so the dispatch is covered)
/// with 1 and 2 threads, and straight on the kernels with per-side padding F cannot express.
/// </summary>
public class DepthwiseAndBatchedConvTests
{
    private static readonly Dictionary<string, ConvGeometry> Cases = new()
    {
        // Depthwise: groups == C, multiplier O / C.
        ["dw_k3_s1_p1_n1"] = Of(1, 5, 5, (7, 11), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 5),
        ["dw_k3_s2_p1_m2_n33"] = Of(33, 3, 6, (13, 5), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 3),
        ["dw_k5_s3_p2"] = Of(2, 4, 4, (17, 19), (5, 5), (3, 3), (2, 2, 2, 2), (1, 1), 4),
        ["dw_k3_d2_m2_wide"] = Of(3, 7, 14, (11, 37), (3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 7),
        ["dw_k1_s2"] = Of(2, 3, 3, (9, 10), (1, 1), (2, 2), (0, 0, 0, 0), (1, 1), 3),
        ["dw_k3x5_s2x1_asymmetric"] = Of(2, 3, 6, (7, 23), (3, 5), (2, 1), (0, 2, 3, 1), (1, 1), 3),
        ["dw_k4x2_s1x3_asymmetric"] = Of(2, 2, 2, (8, 31), (4, 2), (1, 3), (1, 2, 0, 1), (1, 2), 2),
        ["dw_k3_two_rows_wide"] = Of(2, 3, 3, (2, 20), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 3),
        ["dw_k3_p4_narrow_input"] = Of(2, 2, 2, (3, 3), (3, 3), (1, 1), (4, 4, 4, 4), (1, 1), 2),
        ["dw_k1_p2_m2_5_wide_input"] = Of(2, 2, 4, (5, 5), (1, 1), (1, 1), (2, 2, 2, 2), (1, 1), 2),
        ["dw_k3_s2_p1_wide"] = Of(2, 3, 3, (9, 71), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 3),
        ["dw_k3_s2_d2_p2_wide"] = Of(2, 2, 2, (11, 40), (3, 3), (2, 2), (2, 2, 2, 2), (2, 2), 2),
        ["dw_k3_s2_p1_1x1"] = Of(4, 6, 6, (2, 2), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 6),
        ["dw_k3_p1_2x2_two_blocks_n33"] = Of(33, 70, 70, (2, 2), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 70),
        ["dw_k3_m2_3x2_asymmetric_two_blocks"] = Of(3, 65, 130, (3, 2), (3, 3), (1, 1), (0, 2, 1, 1), (1, 1), 65),
        // Direct forward of strided stems: 1–4 input channels, up to 32 outputs.
        ["st_k3_s2_p1_3to8"] = Of(3, 3, 8, (17, 19), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 1),
        ["st_k7_s2_p3_3to16"] = Of(2, 3, 16, (21, 23), (7, 7), (2, 2), (3, 3, 3, 3), (1, 1), 1),
        ["st_k3_s2_d2_4to7"] = Of(2, 4, 7, (20, 35), (3, 3), (2, 2), (2, 2, 2, 2), (2, 2), 1),
        ["st_k5x3_s3x2_asymmetric_1to5_n33"] = Of(33, 1, 5, (13, 29), (5, 3), (3, 2), (2, 1, 0, 2), (1, 1), 1),
        // Batched im2col: ungrouped, few output pixels per image.
        ["b_k3_p1_1x1_n32"] = Of(32, 17, 13, (1, 1), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
        ["b_k3_p1_3x3_n33"] = Of(33, 5, 7, (3, 3), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
        ["b_k3_s2_p1_n1"] = Of(1, 6, 5, (3, 4), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 1),
        ["b_k1_s2_n5"] = Of(5, 4, 6, (4, 5), (1, 1), (2, 2), (0, 0, 0, 0), (1, 1), 1),
        ["b_k1_s1_n4"] = Of(4, 8, 3, (3, 2), (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1),
        ["b_k5_s3_p2_n7"] = Of(7, 3, 4, (5, 5), (5, 5), (3, 3), (2, 2, 2, 2), (1, 1), 1),
        ["b_k3_s2_p1_8x8_n9"] = Of(9, 5, 5, (15, 15), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 1),
        ["b_k3_s2_d2_asymmetric_n9"] = Of(9, 3, 5, (6, 7), (3, 3), (2, 2), (2, 0, 1, 3), (2, 2), 1),
    };

    public static TheoryData<string> Names => new(Cases.Keys);

    /// <summary>Per-side padding, so the kernels can be given geometries F.Conv2d only produces for "same".</summary>
    private static ConvGeometry Of(int n, int c, int o, (int H, int W) size, (int H, int W) k, (int H, int W) s,
        (int Top, int Bottom, int Left, int Right) pad, (int H, int W) d, int groups) => new()
    {
        Batch = n, InChannels = c, InHeight = size.H, InWidth = size.W, OutChannels = o,
        OutHeight = (size.H + pad.Top + pad.Bottom - d.H * (k.H - 1) - 1) / s.H + 1,
        OutWidth = (size.W + pad.Left + pad.Right - d.W * (k.W - 1) - 1) / s.W + 1,
        KernelHeight = k.H, KernelWidth = k.W, StrideHeight = s.H, StrideWidth = s.W,
        PadTop = pad.Top, PadBottom = pad.Bottom, PadLeft = pad.Left, PadRight = pad.Right,
        DilationHeight = d.H, DilationWidth = d.W, Groups = groups,
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void KernelsMatchTheNaiveConvolution(string name)
    {
        var g = Cases[name];
        bool stem = name.StartsWith("st");
        Assert.True(name.StartsWith("dw") ? DirectConv.IsDepthwise(g)
            : stem ? DirectConv.RunsForward(g) && !DirectConv.IsDepthwise(g)
            : BatchedIm2ColConv.Supports(g) && !DirectConv.RunsForward(g), name);
        var (x, w, b, dy) = Inputs(g);
        var (y, dx, dw, db) = Naive(g, x, w, b, dy);
        // Both depthwise kernels handle every depthwise geometry; F.Conv2d picks one by the row width.
        foreach (var (threads, byChannels) in new[] { (1, false), (2, false), (1, true), (2, true) })
        {
            if (byChannels && !DirectConv.IsDepthwise(g)) continue;
            using var _ = Parallelism.UseThreads(threads);
            var (ky, kdx, kdw, kdb) = RunKernels(g, x, w, b, dy, byChannels);
            string what = $"{name}, {threads} threads{(byChannels ? ", by channels" : "")}";
            TensorAssert.Close(y, ky, 1e-5, 1e-5, what + ": y");
            if (stem) continue; // stems' gradients run on the GEMM paths: the F.Conv2d test covers them
            TensorAssert.Close(dx, kdx, 1e-5, 1e-5, what + ": dx");
            TensorAssert.Close(dw, kdw, 1e-5, 1e-4, what + ": dw");
            TensorAssert.Close(db, kdb, 1e-5, 1e-4, what + ": db");
        }
    }

    /// <summary>
    /// The row kernel that reads the input in place (column stride 1 or 2) on every depthwise case of that stride, any row
    /// width (F.Conv2d sends it rows of 8 and more): the naive forward, and a clamp applied as it stores.
    /// </summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void DepthwiseRowsMatchTheNaiveForward(string name)
    {
        var g = Cases[name];
        if (!DirectConv.IsDepthwise(g) || g.StrideWidth > 2 || !System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return;
        var (x, w, b, dy) = Inputs(g);
        var expected = Naive(g, x, w, b, dy).Y;
        foreach (int threads in new[] { 1, 2 })
        {
            using var _ = Parallelism.UseThreads(threads);
            var y = TestArrays.Filled(g.OutputShape.Length, float.NaN);
            DepthwiseRows.Forward(g, x, w, b, y, float.NegativeInfinity, float.PositiveInfinity);
            TensorAssert.Close(expected, y, 1e-5, 1e-5, $"{name}, {threads} threads");
            DepthwiseRows.Forward(g, x, w, b, y, 0f, 0.5f);
            TensorAssert.Close(expected.Select(v => MathF.Min(MathF.Max(v, 0f), 0.5f)).ToArray(), y, 1e-5, 1e-5, $"{name}, {threads} threads, clamped");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Conv2dUsesThemAndMatchesTheNaiveConvolution(string name)
    {
        var g = Cases[name];
        if (g.PadTop != g.PadBottom || g.PadLeft != g.PadRight) return; // per-side padding is covered by the kernel test
        var (x, w, b, dy) = Inputs(g);
        var (y, dx, dw, db) = Naive(g, x, w, b, dy);
        foreach (int threads in new[] { 1, 2 })
        {
            using var _ = Parallelism.UseThreads(threads);
            var (tx, tw, tb) = (Tensor.FromArray(x, g.InputShape.ToArray()), Tensor.FromArray(w, WeightShape(g)), Tensor.FromArray(b, g.OutChannels));
            foreach (var t in new[] { tx, tw, tb }) t.RequiresGrad = true;
            var ty = F.Conv2d(tx, tw, tb, (g.StrideHeight, g.StrideWidth), (g.PadTop, g.PadLeft), (g.DilationHeight, g.DilationWidth), g.Groups);
            ty.Backward(Tensor.FromArray(dy, g.OutputShape.ToArray()));
            string what = $"{name}, {threads} threads";
            TensorAssert.Close(y, ty.ToArray(), 1e-5, 1e-5, what + ": y");
            TensorAssert.Close(dx, tx.Grad!.ToArray(), 1e-5, 1e-5, what + ": dx");
            TensorAssert.Close(dw, tw.Grad!.ToArray(), 1e-5, 1e-4, what + ": dw");
            TensorAssert.Close(db, tb.Grad!.ToArray(), 1e-5, 1e-4, what + ": db");
        }
    }

    [Theory]
    [InlineData(2, 3, 6, 7, 5, 3, 2, 1, 3)]   // depthwise, multiplier 2, stride 2 (3 outputs a row: by channels)
    [InlineData(2, 3, 3, 9, 9, 3, 1, 1, 3)]   // depthwise, 9 outputs a row: along rows
    [InlineData(3, 4, 4, 5, 6, 3, 1, 2, 4)]   // depthwise, dilation-sized padding
    [InlineData(5, 3, 4, 2, 3, 3, 1, 1, 1)]   // batched: 2×3 pixels per image
    [InlineData(3, 4, 5, 5, 5, 1, 2, 0, 1)]   // batched: 1×1 stride 2
    [InlineData(2, 3, 4, 9, 17, 3, 2, 1, 1)]  // stem: direct forward, GEMM backward
    public void PassesGradCheck(int n, int c, int o, int h, int w, int k, int stride, int padding, int groups)
    {
        var rng = new Rng(11);
        var x = Tensor.Normal(new TensorShape(n, c, h, w), 0, 1, rng);
        var weight = Tensor.Normal(new TensorShape(o, c / groups, k, k), 0, 1, rng);
        var bias = Tensor.Normal(new TensorShape(o), 0, 1, rng);
        GradCheck.Check(t => F.Conv2d(t[0], t[1], t[2], stride, padding, groups: groups), [x, weight, bias], what: $"Conv2d n{n} c{c} o{o} g{groups}");
    }

    [Theory]
    [InlineData("dw_k3_s2_p1_m2_n33", false)]
    [InlineData("dw_k3_p1_2x2_two_blocks_n33", true)]
    [InlineData("b_k3_p1_3x3_n33", false)]
    public void TwoThreadsGiveTheSameBitsTwice(string name, bool byChannels)
    {
        var g = Cases[name];
        var (x, w, b, dy) = Inputs(g);
        using var _ = Parallelism.UseThreads(2);
        var first = RunKernels(g, x, w, b, dy, byChannels);
        var second = RunKernels(g, x, w, b, dy, byChannels);
        TensorAssert.Close(first.Y, second.Y, 0, 0, "y");
        TensorAssert.Close(first.Dx, second.Dx, 0, 0, "dx");
        TensorAssert.Close(first.Dw, second.Dw, 0, 0, "dw");
        TensorAssert.Close(first.Db, second.Db, 0, 0, "db");
    }

    /// <summary>The kernels called the way F.Conv2d calls them; gradients start at 0.5 to check they accumulate.</summary>
    private static (float[] Y, float[] Dx, float[] Dw, float[] Db) RunKernels(ConvGeometry g, float[] x, float[] w, float[] b, float[] dy, bool byChannels = false)
    {
        var y = TestArrays.Filled(g.OutputShape.Length, float.NaN);
        var dx = TestArrays.Filled(x.Length, 0.5f);
        var dw = TestArrays.Filled(w.Length, 0.5f);
        var db = TestArrays.Filled(b.Length, 0.5f);
        if (byChannels)
        {
            DepthwiseConvByChannels.Forward(g, x, w, b, y);
            DepthwiseConvByChannels.InputGradient(g, dy, w, dx);
            DepthwiseConvByChannels.ParameterGradients(g, x, dy, dw, db);
        }
        else if (DirectConv.RunsForward(g))
        {
            DirectConv.Forward(g, x, w, b, y);
            if (!DirectConv.IsDepthwise(g)) return (y, dx, dw, db);
            DirectConv.InputGradient(g, dy, w, dx);
            DirectConv.ParameterGradients(g, x, dy, 0, g.Batch, dw, db);
        }
        else
        {
            int images = BatchedIm2ColConv.ImagesPerGemm(g);
            var offsets = new int[g.OutPixels * g.KernelHeight * g.KernelWidth];
            BatchedIm2ColConv.PixelOffsets(g, offsets);
            var scratch = TestArrays.Filled(BatchedIm2ColConv.ScratchLength(g), float.NaN);
            for (int first = 0; first < g.Batch; first += images)
            {
                int count = Math.Min(images, g.Batch - first);
                BatchedIm2ColConv.Forward(g, offsets, x, w, b, y, first, count, scratch);
                BatchedIm2ColConv.Backward(g, offsets, x, w, dy, dx, dw, db, first, count, scratch);
            }
        }
        for (int i = 0; i < dx.Length; i++) dx[i] -= 0.5f;
        for (int i = 0; i < dw.Length; i++) dw[i] -= 0.5f;
        for (int i = 0; i < db.Length; i++) db[i] -= 0.5f;
        return (y, dx, dw, db);
    }

    /// <summary>The definition, summed in double: every (image, output channel, pixel, input channel of the group, tap).</summary>
    private static (float[] Y, float[] Dx, float[] Dw, float[] Db) Naive(ConvGeometry g, float[] x, float[] w, float[] b, float[] dy)
    {
        var y = new double[g.OutputShape.Length];
        var dx = new double[x.Length];
        var dw = new double[w.Length];
        var db = new double[b.Length];
        int cg = g.InChannelsPerGroup, og = g.OutChannelsPerGroup;
        for (int n = 0; n < g.Batch; n++)
            for (int o = 0; o < g.OutChannels; o++)
                for (int oh = 0; oh < g.OutHeight; oh++)
                    for (int ow = 0; ow < g.OutWidth; ow++)
                    {
                        int yi = ((n * g.OutChannels + o) * g.OutHeight + oh) * g.OutWidth + ow;
                        y[yi] += b[o];
                        db[o] += dy[yi];
                        for (int ci = 0; ci < cg; ci++)
                            for (int ki = 0; ki < g.KernelHeight; ki++)
                                for (int kj = 0; kj < g.KernelWidth; kj++)
                                {
                                    int ih = oh * g.StrideHeight - g.PadTop + ki * g.DilationHeight;
                                    int iw = ow * g.StrideWidth - g.PadLeft + kj * g.DilationWidth;
                                    if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue;
                                    int c = o / og * cg + ci;
                                    int xi = ((n * g.InChannels + c) * g.InHeight + ih) * g.InWidth + iw;
                                    int wi = ((o * cg + ci) * g.KernelHeight + ki) * g.KernelWidth + kj;
                                    y[yi] += (double)x[xi] * w[wi];
                                    dx[xi] += (double)dy[yi] * w[wi];
                                    dw[wi] += (double)dy[yi] * x[xi];
                                }
                    }
        return (ToFloats(y), ToFloats(dx), ToFloats(dw), ToFloats(db));
    }

    private static (float[] X, float[] W, float[] B, float[] Dy) Inputs(ConvGeometry g) =>
        (TestArrays.Gaussian(g.InputShape.Length, 1), TestArrays.Gaussian(g.OutChannels * g.WindowLength, 2), TestArrays.Gaussian(g.OutChannels, 3), TestArrays.Gaussian(g.OutputShape.Length, 4));

    private static int[] WeightShape(ConvGeometry g) => [g.OutChannels, g.InChannelsPerGroup, g.KernelHeight, g.KernelWidth];

    private static float[] ToFloats(double[] values) => Array.ConvertAll(values, v => (float)v);
}
