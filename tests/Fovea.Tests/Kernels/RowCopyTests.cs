using Fovea.Kernels;
using Fovea.Tests.Support;

namespace Fovea.Tests.Kernels;

/// <summary>The padded row copy against its definition: margins on either side, rows longer and shorter than a vector, an input cropped on the left.</summary>
public unsafe class RowCopyTests
{
    [Theory]
    [InlineData(3, 30, 1, 28)]   // a 3×3 conv's padded 28-wide row
    [InlineData(2, 7, 3, 1)]     // one column inside wide margins
    [InlineData(4, 37, 2, 33)]   // three vectors, the last partial
    [InlineData(2, 16, 0, 16)]   // no margin, one whole vector
    [InlineData(3, 20, 0, 9)]    // a right margin only
    [InlineData(2, 9, -2, 13)]   // a negative left margin: the row's first columns are dropped, and its last ones
    public void CopyPaddedPutsEachRowBetweenZeroMargins(int rows, int dstWidth, int left, int width)
    {
        int srcStride = width + 3, dstStride = dstWidth + 5;
        var src = TestArrays.Gaussian(rows * srcStride, 1);
        var dst = TestArrays.Filled(rows * dstStride, float.NaN);
        fixed (float* s = src, d = dst) RowCopy.CopyPadded(s, srcStride, d, dstStride, rows, dstWidth, left, width);
        for (int r = 0; r < rows; r++)
        {
            for (int q = 0; q < dstWidth; q++)
            {
                int column = q - left;
                float expected = column >= 0 && column < width ? src[r * srcStride + column] : 0f;
                Assert.Equal(expected, dst[r * dstStride + q]);
            }
            // The stride's gap after each row is not written.
            for (int q = dstWidth; q < dstStride && r * dstStride + q < dst.Length; q++) Assert.True(float.IsNaN(dst[r * dstStride + q]));
        }
    }
}
