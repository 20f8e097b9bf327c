using Fovea.Kernels;
using Fovea.Tests.Support;

namespace Fovea.Tests.Conv;

/// <summary>
/// Inference crops kernel taps that read only padding (maps smaller than the kernel's reach): the geometry that
/// results, and outputs equal to the uncropped convolution (run with gradients, which never crops) on odd shapes.
/// </summary>
public class KernelCropTests
{
    [Theory]
    [InlineData(1, 1, 3, 1, 1, 1, 1, 1, 0)]  // a 3×3 conv on 1×1 maps: the centre tap, unpadded
    [InlineData(2, 2, 5, 2, 1, 1, 3, 3, 1)]  // 5×5 on 2×2: the middle 3×3
    [InlineData(2, 2, 3, 1, 1, 1, 3, 3, -1)] // 3×3 on 2×2: every tap reads the image for some output
    [InlineData(1, 1, 3, 1, 1, 2, 1, 1, 0)]  // dilated: one tap left
    [InlineData(1, 1, 3, 1, 2, 1, 1, 1, 0)]  // strided
    public void CroppedGeometry(int h, int w, int k, int pad, int stride, int dilation, int expectedKh, int expectedKw, int expectedPad)
    {
        var g = ConvGeometry.Of("Conv2d", new TensorShape(1, 4, h, w), 4, 6, (k, k), (stride, stride), pad * dilation, (dilation, dilation));
        var cropped = KernelCrop.Crop(g);
        if (expectedPad < 0)
        {
            Assert.Null(cropped);
            return;
        }
        Assert.NotNull(cropped);
        Assert.Equal((expectedKh, expectedKw), (cropped.KernelHeight, cropped.KernelWidth));
        Assert.Equal(expectedPad, cropped.PadTop);
        Assert.Equal((g.OutHeight, g.OutWidth), (cropped.OutHeight, cropped.OutWidth));
    }

    [Theory]
    [InlineData(7, 8, 16, 1, 1, 3, 1, 1, 1, 1)]   // batched im2col on 1×1 maps
    [InlineData(5, 5, 7, 2, 1, 5, 2, 1, 1, 1)]    // 5×5 on 2×1
    [InlineData(4, 6, 6, 1, 1, 3, 1, 1, 1, 6)]    // depthwise
    [InlineData(4, 3, 4, 1, 3, 7, 3, 2, 1, 1)]    // 7×7 stride 2 on 1×3: cropped rows
    [InlineData(4, 4, 5, 2, 2, 3, 2, 1, 2, 1)]    // dilation 2 on 2×2 (pad 2): the corner taps drop
    public void CroppedInferenceEqualsTheFullConvolution(int n, int c, int o, int h, int w, int k, int pad, int stride, int dilation, int groups)
    {
        var rng = new Rng(21);
        using var x = Tensor.Normal(new TensorShape(n, c, h, w), 0, 1, rng);
        using var weight = Tensor.Normal(new TensorShape(o, c / groups, k, k), 0, 0.5f, rng);
        using var bias = Tensor.Normal(new TensorShape(o), 0, 0.3f, rng);
        Assert.NotNull(KernelCrop.Crop(ConvGeometry.Of("Conv2d", x.Shape, c, o, (k, k), (stride, stride), pad, (dilation, dilation), groups)));
        TensorAssert.Close(ConvModes.Run(withGradients: true, x, weight, bias, stride, pad, dilation, groups), ConvModes.Run(withGradients: false, x, weight, bias, stride, pad, dilation, groups), 1e-5, 1e-6, "cropped");
        // Changed weights show at once (the kept crop is checked against the weights).
        weight.Span[weight.Length / 2] += 1f;
        TensorAssert.Close(ConvModes.Run(withGradients: true, x, weight, bias, stride, pad, dilation, groups), ConvModes.Run(withGradients: false, x, weight, bias, stride, pad, dilation, groups), 1e-5, 1e-6, "after a weight change");
    }

    /// <summary>The crop really runs, at any batch: a NaN on a tap that reads only padding poisons the full convolution (0·NaN), not the cropped one.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    public void ATapThatReadsOnlyPaddingIsSkippedAtInference(int batch)
    {
        using var x = Tensor.Normal(new TensorShape(batch, 2, 1, 1), 0, 1, new Rng(22));
        using var weight = Tensor.Normal(new TensorShape(3, 2, 3, 3), 0, 1, new Rng(23));
        weight.Span[0] = float.NaN;  // filter 0, channel 0, the top-left tap
        using (Autograd.NoGrad())
        {
            using var cropped = F.Conv2d(x, weight, padding: 1);
            Assert.All(cropped.ToArray(), v => Assert.False(float.IsNaN(v)));
        }
        weight.RequiresGrad = true;
        using var full = F.Conv2d(x, weight, padding: 1);
        Assert.True(float.IsNaN(full.Span[0]));
    }
}
