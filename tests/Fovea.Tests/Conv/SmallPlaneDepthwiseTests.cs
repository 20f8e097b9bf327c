using Fovea.Kernels;
using Fovea.Tests.Support;

namespace Fovea.Tests.Conv;

/// <summary>
/// The depthwise kernel for planes of 1 to 16 pixels (<see cref="SmallPlaneDepthwise"/>) against a naive loop, on
/// channel counts whose rows end in a part vector, with and without bias and a fused clamp; and which geometries it takes.
/// </summary>
public class SmallPlaneDepthwiseTests
{
    [Theory]
    [InlineData(3, 17, 1, 1, 1, 0)]  // a 1×1 kernel on 1×1 maps
    [InlineData(2, 21, 1, 1, 3, 1)]  // 3×3 on 1×1: the centre tap alone
    [InlineData(2, 9, 2, 2, 3, 1)]   // 3×3 on 2×2: every tap but the outer ring
    [InlineData(1, 5, 1, 2, 3, 1)]   // 1×2
    [InlineData(3, 7, 2, 1, 3, 1)]   // 2×1
    [InlineData(1, 64, 2, 2, 3, 1)]  // whole vectors only
    [InlineData(2, 11, 4, 4, 3, 1)]  // 4×4: corner pixels out of each other's reach
    [InlineData(3, 6, 2, 4, 3, 1)]   // 2×4
    [InlineData(1, 5, 4, 4, 5, 2)]   // 5×5 on 4×4
    public void MatchesTheDefinition(int n, int c, int h, int w, int k, int pad)
    {
        var g = ConvGeometry.Of("test", new TensorShape(n, c, h, w), c, c, (k, k), (1, 1), pad, (1, 1), c);
        bool avx512 = System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
        Assert.Equal(avx512, SmallPlaneDepthwise.Supports(g));
        if (!avx512) return;  // AVX-512 only: elsewhere the other depthwise kernels run (InferenceAgreesWithTheTrainingKernel)
        var x = TestArrays.Uniform(n * c * h * w, 1);
        var weight = TestArrays.Uniform(c * k * k, 2);
        foreach (var (bias, low, high) in new[] { ((float[]?)null, float.NegativeInfinity, float.PositiveInfinity), (TestArrays.Uniform(c, 3), 0f, 0.5f) })
        {
            var y = TestArrays.Filled(n * c * h * w, float.NaN);
            SmallPlaneDepthwise.Forward(g, SmallPlaneDepthwise.Factors(g, weight), x, bias, y, low, high);
            var expected = new float[y.Length];
            for (int i = 0; i < n * c; i++)
                for (int oh = 0; oh < h; oh++)
                    for (int ow = 0; ow < w; ow++)
                    {
                        float sum = bias?[i % c] ?? 0f;
                        for (int ki = 0; ki < k; ki++)
                            for (int kj = 0; kj < k; kj++)
                            {
                                int ih = oh - pad + ki, iw = ow - pad + kj;
                                if ((uint)ih < (uint)h && (uint)iw < (uint)w) sum += x[(i * h + ih) * w + iw] * weight[(i % c * k + ki) * k + kj];
                            }
                        expected[(i * h + oh) * w + ow] = Math.Clamp(sum, low, high);
                    }
            TensorAssert.Close(expected, y, 1e-5, 1e-6, $"bias {bias is not null}");
        }
    }

    [Theory]
    [InlineData(8, 8, 1, 1, 4)]  // 64 pixels: more than a vector
    [InlineData(2, 2, 2, 1, 4)]  // stride 2
    [InlineData(2, 2, 1, 2, 4)]  // channel multiplier 2
    [InlineData(1, 3, 1, 1, 4)]  // 3 pixels: not a divisor of a vector
    public void LeavesOtherGeometriesToTheOtherKernels(int h, int w, int stride, int multiplier, int c)
    {
        var g = ConvGeometry.Of("test", new TensorShape(1, c, h, w), c, c * multiplier, (3, 3), (stride, stride), 1, (1, 1), c);
        Assert.False(SmallPlaneDepthwise.Supports(g));
    }

    [Fact]
    public void AnInfiniteInputStaysOutOfTheOutputsThatDoNotReadIt()
    {
        var x = TestArrays.Uniform(2 * 4 * 4, 4);
        x[15] = float.PositiveInfinity;  // channel 0, pixel (3, 3): out of reach of outputs (0, 0) … (1, 3) and (2, 0), (2, 1), (3, 0), (3, 1)
        var g = ConvGeometry.Of("test", new TensorShape(1, 2, 4, 4), 2, 2, (3, 3), (1, 1), 1, (1, 1), 2);
        if (!SmallPlaneDepthwise.Supports(g)) return;  // AVX-512 only (MatchesTheDefinition checks which)
        var y = new float[x.Length];
        SmallPlaneDepthwise.Forward(g, SmallPlaneDepthwise.Factors(g, TestArrays.Uniform(2 * 9, 5)), x, null, y, float.NegativeInfinity, float.PositiveInfinity);
        Assert.All(new[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13 }, q => Assert.True(float.IsFinite(y[q]), $"output {q}"));
        Assert.True(float.IsInfinity(y[10]) || float.IsNaN(y[10]));
    }

    [Fact]
    public void InferenceAgreesWithTheTrainingKernel()
    {
        var rng = new Rng(31);
        using var x = Tensor.Normal(new TensorShape(5, 40, 2, 2), 0, 1, rng);
        using var weight = Tensor.Normal(new TensorShape(40, 1, 3, 3), 0, 0.5f, rng);
        using var bias = Tensor.Normal(new TensorShape(40), 0, 0.2f, rng);
        TensorAssert.Close(ConvModes.Run(withGradients: true, x, weight, bias, padding: 1, groups: 40), ConvModes.Run(withGradients: false, x, weight, bias, padding: 1, groups: 40), 1e-5, 1e-6, "inference");
    }
}
