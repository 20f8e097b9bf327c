using System.Runtime.CompilerServices;

namespace Fovea;

/// <summary>
/// A small, fast, seedable random generator (xoshiro128** seeded through SplitMix64). Every random
/// choice in Fovea takes one of these, so the same seed gives the same bits on every machine, and
/// its state can be saved in a checkpoint and restored.
/// </summary>
public sealed class Rng
{
    private uint _s0, _s1, _s2, _s3;
    private double? _spareGaussian;

    public Rng(ulong seed)
    {
        ulong x = seed;
        _s0 = (uint)SplitMix(ref x); _s1 = (uint)SplitMix(ref x); _s2 = (uint)SplitMix(ref x); _s3 = (uint)SplitMix(ref x);
        if ((_s0 | _s1 | _s2 | _s3) == 0) _s0 = 1;
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public uint NextUInt() => Step(ref _s0, ref _s1, ref _s2, ref _s3);

    /// <summary>One xoshiro128** step on a state held anywhere (the fields, or locals in a bulk loop).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Step(ref uint s0, ref uint s1, ref uint s2, ref uint s3)
    {
        uint result = uint.RotateLeft(s1 * 5, 7) * 9;
        uint t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;
        s2 ^= t;
        s3 = uint.RotateLeft(s3, 11);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 24 bits, exactly representable as a float.</summary>
    public float NextFloat() => UnitFloat(NextUInt());

    private static float UnitFloat(uint bits) => (bits >> 8) * (1.0f / (1 << 24));

    /// <summary>
    /// Fills <paramref name="values"/> with what as many <see cref="NextFloat"/> calls return, in order, and leaves the
    /// generator where they would: the state stays in registers through the loop (a dropout mask of 200 000 draws
    /// took a millisecond call by call, each call reading and writing the four state words).
    /// </summary>
    public void NextFloats(Span<float> values)
    {
        uint s0 = _s0, s1 = _s1, s2 = _s2, s3 = _s3;
        for (int i = 0; i < values.Length; i++) values[i] = UnitFloat(Step(ref s0, ref s1, ref s2, ref s3));
        (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);
    }

    /// <summary>Uniform in [0, 1) with 53 bits.</summary>
    public double NextDouble() => (((ulong)NextUInt() << 21) ^ (NextUInt() >> 11)) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, <paramref name="maxExclusive"/>), without modulo bias.</summary>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive), $"Must be positive. Received: {maxExclusive}");
        ulong m = (ulong)NextUInt() * (uint)maxExclusive;
        uint low = (uint)m;
        if (low < (uint)maxExclusive)
        {
            uint threshold = (uint)(-maxExclusive) % (uint)maxExclusive;
            while (low < threshold)
            {
                m = (ulong)NextUInt() * (uint)maxExclusive;
                low = (uint)m;
            }
        }
        return (int)(m >> 32);
    }

    /// <summary>Standard normal sample (Box–Muller, the spare kept for the next call).</summary>
    public double NextGaussian()
    {
        if (_spareGaussian is double spare)
        {
            _spareGaussian = null;
            return spare;
        }
        double u1;
        do u1 = NextDouble(); while (u1 <= double.Epsilon);
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareGaussian = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>The full generator state, to save in a checkpoint.</summary>
    public ulong[] GetState() => [_s0, _s1, _s2, _s3, _spareGaussian is double g ? BitConverter.DoubleToUInt64Bits(g) : 0, _spareGaussian is null ? 0UL : 1UL];

    public void SetState(ReadOnlySpan<ulong> state)
    {
        if (state.Length != 6) throw new ArgumentException($"Rng state has 6 words. Received: {state.Length}");
        _s0 = (uint)state[0]; _s1 = (uint)state[1]; _s2 = (uint)state[2]; _s3 = (uint)state[3];
        _spareGaussian = state[5] != 0 ? BitConverter.UInt64BitsToDouble(state[4]) : null;
    }
}
