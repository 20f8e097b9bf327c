using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Kernels;

/// <summary>
/// Sixteen columns of one row read at a stride of 1 or 2 with AVX-512, straight from the tensor: lanes outside the
/// row take a fill value (0 for a convolution's padding, −∞ for a max pool's) through a masked load, whose masked
/// lanes are never read, and stride 2 keeps the even lanes of two loads with one two-register permute. Kernels that
/// read windows this way need no padded copy of their input: copying rows and reading them back at once stalled on
/// store forwarding.
/// </summary>
internal static unsafe class StridedColumns
{
    /// <summary>Columns first, first + stride, … (16 of them) of a row of <paramref name="width"/> floats; <paramref name="stride"/> is 1 or 2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* row, int first, int width, int stride, Vector512<float> fill) =>
        stride == 1 ? Contiguous(row, first, width, fill)
            : Avx512F.PermuteVar16x32x2(Contiguous(row, first, width, fill), Vector512<int>.Indices * 2, Contiguous(row, first + 16, width, fill));

    /// <summary>Columns first … first + 15, <paramref name="fill"/> outside [0, width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Contiguous(float* row, int first, int width, Vector512<float> fill)
    {
        if (first >= 0 && first + 16 <= width) return Vector512.Load(row + first);
        // Constants built in place (Indices), not static fields: a static field read in a kernel compiled before its class
        // was initialised carries an initialisation check on every use.
        var inside = Vector512.LessThan((Vector512<int>.Indices + Vector512.Create(first)).AsUInt32(), Vector512.Create((uint)width));
        return Avx512F.MaskLoad(row + first, inside.AsSingle(), fill);
    }

    /// <summary>The first <paramref name="count"/> lanes (1–16) of <paramref name="v"/> → <paramref name="target"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* target, Vector512<float> v, int count)
    {
        if (count >= 16) v.Store(target);
        else Avx512F.MaskStore(target, Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle(), v);
    }
}
