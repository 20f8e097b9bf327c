using System.Buffers;

namespace Fovea;

/// <summary>
/// Where tensor storage and kernel scratch come from and go back to. Training steps reuse the same
/// sizes every iteration, so a pool turns the steady state into (almost) no managed allocation.
/// </summary>
public static class TensorPool
{
    private static readonly ArrayPool<float> Floats = ArrayPool<float>.Create(maxArrayLength: 1 << 28, maxArraysPerBucket: 64);
    private static readonly ArrayPool<int> Ints = ArrayPool<int>.Create(maxArrayLength: 1 << 28, maxArraysPerBucket: 32);

    /// <summary>A float array of at least <paramref name="length"/> elements; contents are unspecified.</summary>
    public static float[] Rent(int length) => length == 0 ? [] : Floats.Rent(length);

    public static void Return(float[] array)
    {
        if (array.Length > 0) Floats.Return(array);
    }

    public static int[] RentInts(int length) => length == 0 ? [] : Ints.Rent(length);

    public static void ReturnInts(int[] array)
    {
        if (array.Length > 0) Ints.Return(array);
    }
}
