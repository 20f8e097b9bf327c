using System.Numerics.Tensors;

namespace Fovea.Kernels;

/// <summary>
/// im2col ("unfold") and its adjoint col2im ("fold"): turning convolution into matrix products.
/// The im2col matrix of one group of one image, [(C / groups)·kH·kW, outH·outW], has one row per
/// (channel, ki, kj) and one column per output pixel (oh, ow), holding
/// image[c, oh·sH − padTop + ki·dH, ow·sW − padLeft + kj·dW], or 0 where that falls in the padding.
/// Row order (c, ki, kj) is PyTorch's weight and unfold order, so a weight [O, C/groups, kH, kW] is
/// directly the left operand. Window variants do the same for a single output pixel.
/// </summary>
public static class Im2Col
{
    /// <summary>Writes the im2col matrix of <paramref name="image"/> ([C / groups, H, W]) into <paramref name="columns"/>.</summary>
    public static void Unfold(ReadOnlySpan<float> image, Span<float> columns, ConvGeometry g)
    {
        CheckLengths(image.Length, columns.Length, g.ColumnsLength, g, nameof(Unfold));
        int outW = g.OutWidth, outPixels = g.OutPixels, row = 0;
        for (int c = 0; c < g.InChannelsPerGroup; c++)
        {
            var plane = image.Slice(c * g.InPixels, g.InPixels);
            for (int ki = 0; ki < g.KernelHeight; ki++)
            {
                int rowOffset = ki * g.DilationHeight - g.PadTop;
                var (ohLo, ohHi) = InsideRange(rowOffset, g.StrideHeight, g.InHeight, g.OutHeight);
                for (int kj = 0; kj < g.KernelWidth; kj++, row++)
                {
                    int colOffset = kj * g.DilationWidth - g.PadLeft;
                    var (owLo, owHi) = InsideRange(colOffset, g.StrideWidth, g.InWidth, outW);
                    var dst = columns.Slice(row * outPixels, outPixels);
                    dst[..(ohLo * outW)].Clear();
                    dst[(ohHi * outW)..].Clear();
                    for (int oh = ohLo; oh < ohHi; oh++)
                    {
                        var d = dst.Slice(oh * outW, outW);
                        d[..owLo].Clear();
                        d[owHi..].Clear();
                        var src = plane.Slice((oh * g.StrideHeight + rowOffset) * g.InWidth, g.InWidth);
                        if (g.StrideWidth == 1) src.Slice(owLo + colOffset, owHi - owLo).CopyTo(d[owLo..]);
                        else for (int ow = owLo; ow < owHi; ow++) d[ow] = src[ow * g.StrideWidth + colOffset];
                    }
                }
            }
        }
    }

    /// <summary>
    /// The adjoint of <see cref="Unfold"/>: adds every entry of <paramref name="columns"/> into the image pixel it
    /// was read from (overlapping windows sum; padding entries are dropped). Used for input gradients.
    /// </summary>
    public static void FoldAdd(ReadOnlySpan<float> columns, Span<float> image, ConvGeometry g)
    {
        CheckLengths(image.Length, columns.Length, g.ColumnsLength, g, nameof(FoldAdd));
        int outW = g.OutWidth, outPixels = g.OutPixels, row = 0;
        for (int c = 0; c < g.InChannelsPerGroup; c++)
        {
            var plane = image.Slice(c * g.InPixels, g.InPixels);
            for (int ki = 0; ki < g.KernelHeight; ki++)
            {
                int rowOffset = ki * g.DilationHeight - g.PadTop;
                var (ohLo, ohHi) = InsideRange(rowOffset, g.StrideHeight, g.InHeight, g.OutHeight);
                for (int kj = 0; kj < g.KernelWidth; kj++, row++)
                {
                    int colOffset = kj * g.DilationWidth - g.PadLeft;
                    var (owLo, owHi) = InsideRange(colOffset, g.StrideWidth, g.InWidth, outW);
                    var src = columns.Slice(row * outPixels, outPixels);
                    for (int oh = ohLo; oh < ohHi; oh++)
                    {
                        var s = src.Slice(oh * outW, outW);
                        var dst = plane.Slice((oh * g.StrideHeight + rowOffset) * g.InWidth, g.InWidth);
                        if (g.StrideWidth == 1)
                        {
                            var d = dst.Slice(owLo + colOffset, owHi - owLo);
                            TensorPrimitives.Add(d, s[owLo..owHi], d);
                        }
                        else for (int ow = owLo; ow < owHi; ow++) dst[ow * g.StrideWidth + colOffset] += s[ow];
                    }
                }
            }
        }
    }

    /// <summary>Column (<paramref name="oh"/>, <paramref name="ow"/>) of the im2col matrix: the window one output pixel reads.</summary>
    public static void UnfoldWindow(ReadOnlySpan<float> image, Span<float> window, ConvGeometry g, int oh, int ow)
    {
        CheckLengths(image.Length, window.Length, g.WindowLength, g, nameof(UnfoldWindow));
        int k = 0;
        for (int c = 0; c < g.InChannelsPerGroup; c++)
        {
            var plane = image.Slice(c * g.InPixels, g.InPixels);
            for (int ki = 0; ki < g.KernelHeight; ki++, k += g.KernelWidth)
            {
                var dst = window.Slice(k, g.KernelWidth);
                int ih = oh * g.StrideHeight - g.PadTop + ki * g.DilationHeight;
                if ((uint)ih >= (uint)g.InHeight)
                {
                    dst.Clear();
                    continue;
                }
                var src = plane.Slice(ih * g.InWidth, g.InWidth);
                for (int kj = 0; kj < g.KernelWidth; kj++)
                {
                    int iw = ow * g.StrideWidth - g.PadLeft + kj * g.DilationWidth;
                    dst[kj] = (uint)iw < (uint)g.InWidth ? src[iw] : 0f;
                }
            }
        }
    }

    /// <summary>The adjoint of <see cref="UnfoldWindow"/>: adds <paramref name="window"/> into the pixels it was read from.</summary>
    public static void FoldAddWindow(ReadOnlySpan<float> window, Span<float> image, ConvGeometry g, int oh, int ow)
    {
        CheckLengths(image.Length, window.Length, g.WindowLength, g, nameof(FoldAddWindow));
        int k = 0;
        for (int c = 0; c < g.InChannelsPerGroup; c++)
        {
            var plane = image.Slice(c * g.InPixels, g.InPixels);
            for (int ki = 0; ki < g.KernelHeight; ki++, k += g.KernelWidth)
            {
                int ih = oh * g.StrideHeight - g.PadTop + ki * g.DilationHeight;
                if ((uint)ih >= (uint)g.InHeight) continue;
                var src = window.Slice(k, g.KernelWidth);
                var dst = plane.Slice(ih * g.InWidth, g.InWidth);
                for (int kj = 0; kj < g.KernelWidth; kj++)
                {
                    int iw = ow * g.StrideWidth - g.PadLeft + kj * g.DilationWidth;
                    if ((uint)iw < (uint)g.InWidth) dst[iw] += src[kj];
                }
            }
        }
    }

    /// <summary>
    /// The output indices o in [0, <paramref name="outSize"/>) whose input index o·stride + offset lies inside
    /// [0, <paramref name="inSize"/>); the others read padding. Computed once per kernel row so the inner loops
    /// are plain copies.
    /// </summary>
    private static (int Lo, int Hi) InsideRange(int offset, int stride, int inSize, int outSize)
    {
        int lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int last = inSize - 1 - offset;
        int hi = last < 0 ? 0 : Math.Min(outSize, last / stride + 1);
        return (Math.Min(lo, hi), hi);
    }

    private static void CheckLengths(int imageLength, int otherLength, int otherNeeded, ConvGeometry g, string kernel)
    {
        int imageNeeded = g.InChannelsPerGroup * g.InPixels;
        if (imageLength < imageNeeded || otherLength < otherNeeded)
            throw new ArgumentException($"Im2Col.{kernel}: needs an image of {imageNeeded} floats and {otherNeeded} for the other operand. Received {imageLength} and {otherLength}");
    }
}
