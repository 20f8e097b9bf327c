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
