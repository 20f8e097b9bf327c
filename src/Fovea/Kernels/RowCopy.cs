using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// Moves a block of short rows between layouts with different row strides (an image into its padded
/// copy and back). CNN rows are 7–32 floats, where a call to a general copy per row costs more than
/// the copy: here each row is a few vector moves, the tail masked where AVX-512 allows it.
/// </summary>
internal static unsafe class RowCopy
{
    private enum Mode { Copy, Shift, Accumulate }

    /// <summary>dst row r = src row r (width floats each).</summary>
    public static void Copy(float* src, int srcStride, float* dst, int dstStride, int rows, int width) =>
        Run(Mode.Copy, src, srcStride, dst, dstStride, rows, width, 0f);

    /// <summary>dst row r = src row r + shift.</summary>
    public static void CopyShifted(float* src, int srcStride, float* dst, int dstStride, int rows, int width, float shift) =>
        Run(Mode.Shift, src, srcStride, dst, dstStride, rows, width, shift);

    /// <summary>dst row r += src row r.</summary>
    public static void Accumulate(float* src, int srcStride, float* dst, int dstStride, int rows, int width) =>
        Run(Mode.Accumulate, src, srcStride, dst, dstStride, rows, width, 0f);

    /// <summary>
    /// dst row r, column q = src row r, column q − <paramref name="left"/> where that is within
    /// [0, <paramref name="width"/>), else 0, for q in [0, <paramref name="dstWidth"/>): a row and its zero margins
    /// written once, rather than cleared and then copied into.
    /// </summary>
    public static void CopyPadded(float* src, int srcStride, float* dst, int dstStride, int rows, int dstWidth, int left, int width)
    {
        if (!Avx512F.IsSupported)
        {
            for (int r = 0; r < rows; r++) new Span<float>(dst + (long)r * dstStride, dstWidth).Clear();
            int first = Math.Max(0, left), skipped = first - left, count = Math.Min(width - skipped, dstWidth - first);
            if (count > 0) Copy(src + skipped, srcStride, dst + first, dstStride, rows, count);
            return;
        }
        var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for (int r = 0; r < rows; r++, src += srcStride, dst += dstStride)
            for (int i = 0; i < dstWidth; i += 16)
            {
                // Lane j reads source column i + j − left, only where that is a column of the row (masked lanes read nothing).
                var column = lanes + Vector512.Create(i - left);
                var inside = (Vector512.GreaterThanOrEqual(column, Vector512<int>.Zero) & Vector512.LessThan(column, Vector512.Create(width))).AsSingle();
                var v = Avx512F.MaskLoad(src + i - left, inside, Vector512<float>.Zero);
                if (i + 16 <= dstWidth) v.Store(dst + i);
                else Avx512F.MaskStore(dst + i, Vector512.LessThan(lanes, Vector512.Create(dstWidth - i)).AsSingle(), v);
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Run(Mode mode, float* src, int srcStride, float* dst, int dstStride, int rows, int width, float shift)
    {
        if (Avx512F.IsSupported)
        {
            var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            var tail = Vector512.LessThan(lanes, Vector512.Create(width % 16)).AsSingle();
            int full = width / 16 * 16;
            var add = Vector512.Create(shift);
            for (int r = 0; r < rows; r++, src += srcStride, dst += dstStride)
            {
                for (int i = 0; i < full; i += 16)
                    Vector512.Store(Apply(mode, Vector512.Load(src + i), dst + i, add), dst + i);
                if (full < width)
                {
                    var v = Avx512F.MaskLoad(src + full, tail, Vector512<float>.Zero);
                    if (mode == Mode.Accumulate) v += Avx512F.MaskLoad(dst + full, tail, Vector512<float>.Zero);
                    else if (mode == Mode.Shift) v += add;
                    Avx512F.MaskStore(dst + full, tail, v);
                }
            }
            return;
        }
        int w = Vector<float>.Count;
        var shiftVector = new Vector<float>(shift);
        for (int r = 0; r < rows; r++, src += srcStride, dst += dstStride)
        {
            int i = 0;
            for (; i <= width - w; i += w)
            {
                var v = Vector.Load(src + i);
                if (mode == Mode.Accumulate) v += Vector.Load(dst + i);
                else if (mode == Mode.Shift) v += shiftVector;
                Vector.Store(v, dst + i);
            }
            for (; i < width; i++)
            {
                // Copy mode copies: adding a zero shift would turn −0 into +0.
                dst[i] = mode switch { Mode.Accumulate => dst[i] + src[i], Mode.Shift => src[i] + shift, _ => src[i] };
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Apply(Mode mode, Vector512<float> v, float* dst, Vector512<float> shift) => mode switch
    {
        Mode.Accumulate => v + Vector512.Load(dst),
        Mode.Shift => v + shift,
        _ => v,
    };
}
