using Fovea.Kernels;

namespace Fovea;

/// <summary>
/// Inference on maps smaller than the kernel's reach (a 3×3 conv on the 1×1 maps of a CIFAR-sized ResNet's last
/// stage): kernel rows and columns that read only padding for every output are cropped away, with the padding
/// reduced to match, so the products skip taps that can only add 0·w. A 3×3 conv on 1×1 maps becomes a 1×1 conv:
/// 9× fewer multiply-adds. The output is the same up to those exact zero terms (a weight of ±∞ or NaN on a
/// cropped tap no longer turns a padding zero into NaN). The cropped weights are kept per weight tensor
/// (<see cref="ConvPlans.ForCrop"/>), so any batch gains, and the cropped conv's own prepared weights are kept too.
/// </summary>
internal static class KernelCrop
{
    /// <summary>The geometry with the kernel cropped to the rows and columns some output reads inside the image; null when nothing crops.</summary>
    public static ConvGeometry? Crop(ConvGeometry g)
    {
        if (Used(g.KernelHeight, g.OutHeight, g.StrideHeight, g.PadTop, g.DilationHeight, g.InHeight) is not var (top, rows)
            || Used(g.KernelWidth, g.OutWidth, g.StrideWidth, g.PadLeft, g.DilationWidth, g.InWidth) is not var (left, columns))
            return null;
        if (rows == g.KernelHeight && columns == g.KernelWidth) return null;
        var cropped = g with
        {
            KernelHeight = rows,
            KernelWidth = columns,
            PadTop = g.PadTop - top * g.DilationHeight,
            PadBottom = g.PadBottom - (g.KernelHeight - top - rows) * g.DilationHeight,
            PadLeft = g.PadLeft - left * g.DilationWidth,
            PadRight = g.PadRight - (g.KernelWidth - left - columns) * g.DilationWidth,
        };
        // Padding that would have to turn negative (a stride skipping over the image's start) is left as it is.
        return cropped.PadTop < 0 || cropped.PadBottom < 0 || cropped.PadLeft < 0 || cropped.PadRight < 0 ? null : cropped;
    }

    /// <summary>The first used tap along one axis and how many follow it, all used; null when the used taps are not one run.</summary>
    private static (int First, int Count)? Used(int kernel, int outSize, int stride, int padBegin, int dilation, int inSize)
    {
        int first = -1, last = -1, count = 0;
        for (int k = 0; k < kernel; k++)
        {
            bool used = false;
            for (int o = 0; o < outSize && !used; o++) used = (uint)(o * stride - padBegin + k * dilation) < (uint)inSize;
            if (!used) continue;
            if (first < 0) first = k;
            last = k;
            count++;
        }
        return first >= 0 && last - first + 1 == count ? (first, count) : null;
    }

    /// <summary>A new tensor holding the taps of <paramref name="weight"/> ([O, C/groups, kH, kW] of <paramref name="g"/>) that <paramref name="cropped"/> keeps of <paramref name="g"/>.</summary>
    public static Tensor Weight(ConvGeometry g, ConvGeometry cropped, ReadOnlySpan<float> weight)
    {
        int top = (g.PadTop - cropped.PadTop) / g.DilationHeight, left = (g.PadLeft - cropped.PadLeft) / g.DilationWidth;
        int kh = cropped.KernelHeight, kw = cropped.KernelWidth, filters = g.OutChannels * g.InChannelsPerGroup;
        var result = Tensor.Empty(g.OutChannels, g.InChannelsPerGroup, kh, kw);
        var target = result.Span;
        // Kept rows are a few floats long (one, for 1×1 maps): element by element, as a span copy per row costs more than its floats.
        int t = 0;
        for (int f = 0; f < filters; f++)
            for (int i = 0; i < kh; i++)
            {
                int row = (f * g.KernelHeight + top + i) * g.KernelWidth + left;
                for (int j = 0; j < kw; j++) target[t++] = weight[row + j];
            }
        return result;
    }
}
