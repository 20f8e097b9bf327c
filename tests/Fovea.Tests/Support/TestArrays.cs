namespace Fovea.Tests.Support;

/// <summary>Seeded input arrays for the kernel-vs-naive tests.</summary>
internal static class TestArrays
{
    /// <summary>Standard normal values.</summary>
    public static float[] Gaussian(int length, ulong seed)
    {
        var rng = new Rng(seed);
        var a = new float[length];
        for (int i = 0; i < length; i++) a[i] = (float)rng.NextGaussian();
        return a;
    }

    /// <summary>Uniform values in [-1, 1).</summary>
    public static float[] Uniform(int length, ulong seed)
    {
        var rng = new Rng(seed);
        return Enumerable.Range(0, length).Select(_ => rng.NextFloat() * 2 - 1).ToArray();
    }

    /// <summary>Every entry <paramref name="value"/> (NaN checks that a kernel writes everything; a number, that it adds rather than overwrites).</summary>
    public static float[] Filled(int length, float value) => Enumerable.Repeat(value, length).ToArray();
}
