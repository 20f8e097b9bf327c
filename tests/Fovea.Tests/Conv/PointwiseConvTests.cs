using Fovea.Kernels;
using Fovea.Tests.Support;

namespace Fovea.Tests.Conv;

/// <summary>
/// The 1×1 inference kernel (<see cref="PointwiseConv"/>) against a naive loop: maps of exactly one vector, of a few
/// vectors with a ragged end (5×5, 11×11) and of several 64-pixel tiles; output channels not a multiple of the tile's 4.
/// </summary>
public class PointwiseConvTests
{
    [Theory]
    [InlineData(2, 8, 48, 4, 4)]
    [InlineData(1, 1, 5, 5, 5)]
    [InlineData(3, 13, 17, 11, 11)]
    [InlineData(1, 160, 1, 8, 8)]
    [InlineData(2, 6, 9, 10, 13)]
    [InlineData(2, 37, 11, 4, 8)]    // 32 pixels: the narrow tile, whole vectors
    [InlineData(1, 256, 130, 5, 5)]  // the narrow tile, a ragged end, many input channels
    public void MatchesTheDefinition(int n, int c, int o, int h, int w)
    {
        var g = ConvGeometry.Of("test", new TensorShape(n, c, h, w), c, o, (1, 1), (1, 1), 0, (1, 1));
        bool avx512 = System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
        Assert.Equal(avx512, PointwiseConv.Supports(g));
        if (!avx512) return;  // elsewhere the GEMM kernels run (InferenceAgreesWithTheTrainingKernel)
        int p = h * w;
        var x = TestArrays.Uniform(n * c * p, 1);
        var weight = TestArrays.Uniform(o * c, 2);
        foreach (var (bias, low, high) in new[] { ((float[]?)null, float.NegativeInfinity, float.PositiveInfinity), (TestArrays.Uniform(o, 3), 0f, 0.4f) })
        {
            var y = TestArrays.Filled(n * o * p, float.NaN);
            PointwiseConv.Forward(g, x, weight, bias, y, low, high);
            var expected = new float[y.Length];
            for (int i = 0; i < n; i++)
                for (int oc = 0; oc < o; oc++)
                    for (int q = 0; q < p; q++)
                    {
                        float sum = bias?[oc] ?? 0f;
                        for (int ic = 0; ic < c; ic++) sum += weight[oc * c + ic] * x[(i * c + ic) * p + q];
                        expected[(i * o + oc) * p + q] = Math.Clamp(sum, low, high);
                    }
            TensorAssert.Close(expected, y, 1e-5, 1e-5, $"bias {bias is not null}");
        }
    }

    [Theory]
    [InlineData(8, 3, 3, 1, 0, 1)]    // 3 × 3 = 9 pixels: under a vector
    [InlineData(200, 8, 8, 1, 0, 1)]  // too many input channels for a 64-pixel tile
    [InlineData(8, 8, 8, 2, 0, 1)]    // stride 2
    [InlineData(8, 8, 8, 1, 1, 1)]    // padded
    [InlineData(8, 8, 8, 1, 0, 2)]    // grouped
    public void LeavesOtherGeometriesToTheOtherKernels(int c, int h, int w, int stride, int pad, int groups)
    {
        var g = ConvGeometry.Of("test", new TensorShape(1, c, h, w), c, 8, (1, 1), (stride, stride), pad, (1, 1), groups);
        Assert.False(PointwiseConv.Supports(g));
    }

    [Fact]
    public void InferenceAgreesWithTheTrainingKernel()
    {
        var rng = new Rng(41);
        using var x = Tensor.Normal(new TensorShape(3, 24, 7, 9), 0, 1, rng);
        using var weight = Tensor.Normal(new TensorShape(19, 24, 1, 1), 0, 0.3f, rng);
        using var bias = Tensor.Normal(new TensorShape(19), 0, 0.2f, rng);
        TensorAssert.Close(ConvModes.Run(withGradients: true, x, weight, bias), ConvModes.Run(withGradients: false, x, weight, bias), 1e-5, 1e-5, "inference");
    }
}
