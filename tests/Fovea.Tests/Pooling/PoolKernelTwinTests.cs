using Fovea;
using Fovea.Kernels;
using Fovea.Tests.Support;

namespace Fovea.Tests.Pooling;

/// <summary>The pool kernels against the definitions written as plainly as possible, on odd shapes.</summary>
public class PoolKernelTwinTests
{
    public static TheoryData<int, int, int, int, int, int, int, bool> Geometries => new()
    {
        // H, W, kernel, stride, padding, dilation, planes, ceil
        { 7, 5, 3, 2, 1, 1, 3, false },
        { 7, 5, 3, 2, 1, 1, 3, true },
        { 11, 13, 2, 3, 1, 1, 2, true },
        { 9, 9, 3, 1, 1, 2, 5, false },
        { 5, 7, 3, 2, 1, 2, 1, true },
        { 1, 9, 1, 1, 0, 1, 4, false },
        { 2, 2, 2, 1, 1, 3, 1, false },  // some dilated windows see only padding
        // The 2×2 stride-2 fast path: rows shorter and longer than a vector, odd sizes dropping a row/column.
        { 28, 28, 2, 2, 0, 1, 3, false },
        { 15, 37, 2, 2, 0, 1, 2, false },
        { 9, 7, 2, 2, 0, 1, 2, true },  // ceil mode: the last window is partial, so the general path runs
    };

    [Theory]
    [InlineData(14, 14)]
    [InlineData(6, 40)]
    public void MaxPool2x2KeepsTheFirstOfTiesAndLetsNaNWin(int h, int w)
    {
        const int planes = 2;
        var g = PoolGeometry.Create("MaxPool2d", [1, planes, h, w], (2, 2), (2, 2), (0, 0), (1, 1), false);
        var rng = new Rng(9);
        // Mostly zeros and ones (ties everywhere, as after a ReLU), a few NaNs.
        var x = Enumerable.Range(0, planes * h * w).Select(_ => rng.NextInt(20) switch { 0 => float.NaN, < 10 => 0f, _ => 1f }).ToArray();
        var y = new float[planes * g.OutH * g.OutW];
        var argmax = new int[y.Length];
        PoolKernels.MaxForward(x, y, argmax, g);
        for (int pl = 0; pl < planes; pl++)
            for (int oh = 0; oh < g.OutH; oh++)
                for (int ow = 0; ow < g.OutW; ow++)
                {
                    // PyTorch's scan: row-major taps, a tap wins when greater or NaN.
                    int at = 2 * oh * w + 2 * ow;
                    float best = x[pl * h * w + at];
                    foreach (int tap in new[] { 2 * oh * w + 2 * ow + 1, (2 * oh + 1) * w + 2 * ow, (2 * oh + 1) * w + 2 * ow + 1 })
                    {
                        float v = x[pl * h * w + tap];
                        if (v > best || float.IsNaN(v)) (best, at) = (v, tap);
                    }
                    int o = (pl * g.OutH + oh) * g.OutW + ow;
                    Assert.Equal(best, y[o]);
                    Assert.Equal(at, argmax[o]);
                }
    }

    /// <summary>Without argmax (inference) undilated windows take the separable two-pass kernel: the same bits, ±0 ties and NaNs included.</summary>
    [Theory]
    [MemberData(nameof(Geometries))]
    [InlineData(23, 23, 3, 2, 0, 1, 3, true)]
    [InlineData(7, 70, 3, 2, 1, 1, 2, false)]  // 3 wide, stride 2: each row read once for three blocks of outputs
    [InlineData(16, 17, 3, 2, 1, 1, 2, false)]
    [InlineData(13, 11, 5, 3, 2, 1, 2, true)]  // column stride 3: the scalar passes
    [InlineData(9, 37, 3, 1, 1, 1, 2, false)]  // stride 1, rows over two vectors
    [InlineData(6, 40, 3, 2, 0, 1, 2, true)]
    [InlineData(5, 33, 4, 2, 2, 1, 2, true)]  // wide margins
    public void MaxPoolWithoutArgmaxGivesTheSameBits(int h, int w, int k, int s, int p, int d, int planes, bool ceil)
    {
        var g = PoolGeometry.Create("MaxPool2d", [1, planes, h, w], (k, k), (s, s), (p, p), (d, d), ceil);
        var rng = new Rng(5);
        var x = Enumerable.Range(0, planes * h * w).Select(_ => rng.NextInt(8) switch { 0 => float.NaN, 1 => -0f, 2 => 0f, 3 => 1f, _ => rng.NextFloat() - 0.5f }).ToArray();
        var withArgmax = new float[planes * g.OutH * g.OutW];
        var without = new float[withArgmax.Length];
        PoolKernels.MaxForward(x, withArgmax, new int[withArgmax.Length], g);
        PoolKernels.MaxForward(x, without, Memory<int>.Empty, g);
        Assert.Equal(withArgmax.Select(BitConverter.SingleToInt32Bits), without.Select(BitConverter.SingleToInt32Bits));
    }

    /// <summary>Small planes, 16 at a time (<see cref="SmallPlaneMaxPool"/>): the same bits; plane counts with a partial last block.</summary>
    [Theory]
    [InlineData(11, 11, 3, 3, 0, 1, 37, false)]
    [InlineData(5, 5, 3, 2, 0, 1, 16, false)]
    [InlineData(7, 5, 3, 2, 1, 1, 19, true)]
    [InlineData(12, 12, 2, 3, 0, 1, 33, false)]
    [InlineData(3, 3, 3, 1, 1, 1, 17, true)]
    [InlineData(1, 1, 1, 1, 0, 1, 20, false)]
    public void SmallPlanesPoolSixteenAtATimeWithTheSameBits(int h, int w, int k, int s, int p, int d, int planes, bool ceil)
    {
        var g = PoolGeometry.Create("MaxPool2d", [1, planes, h, w], (k, k), (s, s), (p, p), (d, d), ceil);
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, SmallPlaneMaxPool.Supports(g));
        Assert.False(PackedRowsMaxPool.Supports(g));
        MaxPoolWithoutArgmaxGivesTheSameBits(h, w, k, s, p, d, planes, ceil);
    }

    /// <summary>
    /// Rows of 4 to 16 outputs, several a vector and eight planes at once (<see cref="PackedRowsMaxPool"/>): the same bits;
    /// a partial last chunk of planes, ceil mode, stride 1, dilation, 2×2 windows, an odd input width.
    /// </summary>
    [Theory]
    [InlineData(16, 16, 3, 2, 1, 1, 35, false)]
    [InlineData(11, 11, 3, 2, 0, 1, 9, true)]
    [InlineData(8, 8, 3, 1, 1, 1, 10, false)]
    [InlineData(9, 13, 3, 2, 1, 2, 3, false)]
    [InlineData(15, 16, 2, 2, 0, 1, 17, false)]
    [InlineData(6, 5, 3, 1, 1, 1, 8, true)]
    public void PackedRowsPoolEightPlanesAtATimeWithTheSameBits(int h, int w, int k, int s, int p, int d, int planes, bool ceil)
    {
        var g = PoolGeometry.Create("MaxPool2d", [1, planes, h, w], (k, k), (s, s), (p, p), (d, d), ceil);
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, PackedRowsMaxPool.Supports(g));
        MaxPoolWithoutArgmaxGivesTheSameBits(h, w, k, s, p, d, planes, ceil);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MaxPoolMatchesNaiveLoops(int h, int w, int k, int s, int p, int d, int planes, bool ceil)
    {
        var g = PoolGeometry.Create("MaxPool2d", [1, planes, h, w], (k, k), (s, s), (p, p), (d, d), ceil);
        var (x, dy) = Inputs(g, seed: 1);
        var y = new float[planes * g.OutH * g.OutW];
        var argmax = new int[y.Length];
        PoolKernels.MaxForward(x, y, argmax, g);
        var dx = TestArrays.Filled(x.Length, 0.25f);  // gradients must be added, not overwritten
        PoolKernels.MaxBackward(dy, dx, argmax, g);

        var (expectedY, expectedDx) = NaiveMax(x, dy, g);
        Assert.Equal(expectedY, y);
        Assert.Equal(expectedDx, dx);

        // A fresh gradient (garbage inside) is cleared plane by plane: the same as accumulating into zeros.
        var intoZeros = new float[x.Length];
        PoolKernels.MaxBackward(dy, intoZeros, argmax, g);
        var fresh = TestArrays.Filled(x.Length, float.NaN);
        PoolKernels.MaxBackward(dy, fresh, argmax, g, clearFirst: true);
        Assert.Equal(intoZeros, fresh);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void AvgPoolMatchesNaiveLoops(int h, int w, int k, int s, int p, int d, int planes, bool ceil)
    {
        _ = d;  // dilation is a max-pooling argument only
        foreach (bool include in new[] { true, false })
        {
            var g = PoolGeometry.Create("AvgPool2d", [planes, 1, h, w], (k, k), (s, s), (p, p), (1, 1), ceil, include);
            var (x, dy) = Inputs(g, seed: 2);
            var y = new float[planes * g.OutH * g.OutW];
            PoolKernels.AvgForward(x, y, g);
            var dx = TestArrays.Filled(x.Length, 0.25f);
            PoolKernels.AvgBackward(dy, dx, g);

            var (expectedY, expectedDx) = NaiveAvg(x, dy, g);
            TensorAssert.Close(expectedY, y, 1e-6, 1e-6, $"avg include={include} output");
            TensorAssert.Close(expectedDx, dx, 1e-6, 1e-6, $"avg include={include} gradient");
        }
    }

    [Theory]
    [InlineData(7, 7, 3, 3)]
    [InlineData(13, 5, 4, 5)]
    [InlineData(3, 4, 5, 7)]
    [InlineData(9, 10, 1, 1)]
    [InlineData(1, 1, 1, 1)]  // a global pool of 1×1 maps: a copy
    [InlineData(4, 3, 4, 3)]
    public void AdaptiveMatchesNaiveLoops(int h, int w, int outH, int outW)
    {
        const int planes = 3;
        var rng = new Rng(5);
        var x = Random(planes * h * w, rng);
        var dy = Random(planes * outH * outW, rng);
        var y = new float[dy.Length];
        PoolKernels.AdaptiveAvgForward(x, y, planes, h, w, outH, outW);
        var dx = TestArrays.Filled(x.Length, 0.25f);
        PoolKernels.AdaptiveAvgBackward(dy, dx, planes, h, w, outH, outW);

        var expectedY = new float[y.Length];
        var expectedDx = TestArrays.Filled(x.Length, 0.25f);
        for (int pl = 0; pl < planes; pl++)
            for (int oh = 0; oh < outH; oh++)
                for (int ow = 0; ow < outW; ow++)
                {
                    int hs = (int)Math.Floor(oh * (double)h / outH), he = (int)Math.Ceiling((oh + 1) * (double)h / outH);
                    int ws = (int)Math.Floor(ow * (double)w / outW), we = (int)Math.Ceiling((ow + 1) * (double)w / outW);
                    int o = (pl * outH + oh) * outW + ow, count = (he - hs) * (we - ws);
                    double sum = 0;
                    for (int ih = hs; ih < he; ih++)
                        for (int iw = ws; iw < we; iw++)
                        {
                            sum += x[(pl * h + ih) * w + iw];
                            expectedDx[(pl * h + ih) * w + iw] += dy[o] / count;
                        }
                    expectedY[o] = (float)(sum / count);
                }
        TensorAssert.Close(expectedY, y, 1e-6, 1e-6, "adaptive output");
        TensorAssert.Close(expectedDx, dx, 1e-6, 1e-6, "adaptive gradient");
    }

    private static (float[] Y, float[] Dx) NaiveMax(float[] x, float[] dy, PoolGeometry g)
    {
        var y = new float[dy.Length];
        var dx = TestArrays.Filled(x.Length, 0.25f);
        for (int pl = 0; pl < g.Planes; pl++)
            for (int oh = 0; oh < g.OutH; oh++)
                for (int ow = 0; ow < g.OutW; ow++)
                {
                    float best = float.NegativeInfinity;
                    int at = -1;
                    for (int i = 0; i < g.KernelH; i++)
                        for (int j = 0; j < g.KernelW; j++)
                        {
                            int ih = oh * g.StrideH - g.PadH + i * g.DilationH, iw = ow * g.StrideW - g.PadW + j * g.DilationW;
                            if (ih < 0 || ih >= g.InH || iw < 0 || iw >= g.InW) continue;  // padding never wins
                            int idx = (pl * g.InH + ih) * g.InW + iw;
                            if (at < 0 || x[idx] > best) (best, at) = (x[idx], idx);
                        }
                    int o = (pl * g.OutH + oh) * g.OutW + ow;
                    y[o] = best;
                    if (at >= 0) dx[at] += dy[o];
                }
        return (y, dx);
    }

    private static (float[] Y, float[] Dx) NaiveAvg(float[] x, float[] dy, PoolGeometry g)
    {
        var y = new float[dy.Length];
        var dx = TestArrays.Filled(x.Length, 0.25f);
        for (int pl = 0; pl < g.Planes; pl++)
            for (int oh = 0; oh < g.OutH; oh++)
                for (int ow = 0; ow < g.OutW; ow++)
                {
                    double sum = 0;
                    int inside = 0, padded = 0;
                    for (int i = 0; i < g.KernelH; i++)
                        for (int j = 0; j < g.KernelW; j++)
                        {
                            int ih = oh * g.StrideH - g.PadH + i, iw = ow * g.StrideW - g.PadW + j;
                            // Taps past the right/bottom padding (ceil mode) never count, even with padding counted.
                            if (ih >= g.InH + g.PadH || iw >= g.InW + g.PadW) continue;
                            padded++;
                            if (ih < 0 || ih >= g.InH || iw < 0 || iw >= g.InW) continue;
                            inside++;
                            sum += x[(pl * g.InH + ih) * g.InW + iw];
                        }
                    int divisor = g.CountIncludePad ? padded : inside;
                    int o = (pl * g.OutH + oh) * g.OutW + ow;
                    y[o] = (float)(sum / divisor);
                    for (int i = 0; i < g.KernelH; i++)
                        for (int j = 0; j < g.KernelW; j++)
                        {
                            int ih = oh * g.StrideH - g.PadH + i, iw = ow * g.StrideW - g.PadW + j;
                            if (ih >= 0 && ih < g.InH && iw >= 0 && iw < g.InW) dx[(pl * g.InH + ih) * g.InW + iw] += dy[o] / divisor;
                        }
                }
        return (y, dx);
    }

    private static (float[] X, float[] Dy) Inputs(PoolGeometry g, ulong seed)
    {
        var rng = new Rng(seed);
        return (Random(g.Planes * g.InH * g.InW, rng), Random(g.Planes * g.OutH * g.OutW, rng));
    }

    private static float[] Random(int n, Rng rng) => Enumerable.Range(0, n).Select(_ => (float)rng.NextGaussian()).ToArray();
}
